#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ctrnn {

using Shape = std::vector<int64_t>;

// a * b for sizes >= 0; throws InvalidArgument(`what`) when the product does not fit in int64.
int64_t checked_product(int64_t a, int64_t b, const char* what);
// The product of a shape's sizes, overflow-checked; throws InvalidArgument("shape").
int64_t element_count(const Shape& s);

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

  // The number of elements of a shape; throws InvalidArgument("shape") for a negative size or a
  // product beyond int64.
  static int64_t count(const Shape& s) { return element_count(s); }
};

// "[2, 3, 4]"
std::string shape_to_string(const Shape& shape);

// Arrays given in a configuration (weights, biases, masks) are kept in double.
using Array = Tensor<double>;

}  // namespace ctrnn
