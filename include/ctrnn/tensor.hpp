#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ctrnn {

using Shape = std::vector<int64_t>;

// A dense, row-major host array: the unit of data exchange at the public API.
template <class T>
struct Tensor {
  Shape shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(Shape s, T fill = T(0)) : shape(std::move(s)), data(count(shape), fill) {}
  Tensor(Shape s, std::vector<T> values);  // throws InvalidArgument("tensor", ...) on size mismatch

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  T* ptr() { return data.data(); }
  const T* ptr() const { return data.data(); }

  static int64_t count(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
  }
};

// "[2, 3, 4]"
std::string shape_to_string(const Shape& shape);

// Arrays given in a configuration (weights, biases, masks) are kept in double.
using Array = Tensor<double>;

}  // namespace ctrnn
