#include "ctrnn/tensor.hpp"

#include "ctrnn/error.hpp"

namespace ctrnn {

int64_t checked_product(int64_t a, int64_t b, const char* what) {
  int64_t n = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &n))
    throw InvalidArgument(what, "sizes >= 0 whose product fits in 64 bits",
                          std::to_string(a) + " x " + std::to_string(b));
  return n;
}

int64_t element_count(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw InvalidArgument("shape", "sizes >= 0", shape_to_string(s));
    if (__builtin_mul_overflow(n, d, &n))
      throw InvalidArgument("shape", "a number of elements that fits in 64 bits", shape_to_string(s));
  }
  return n;
}

template <class T>
Tensor<T>::Tensor(Shape s, std::vector<T> values) : shape(std::move(s)), data(std::move(values)) {
  if (count(shape) != numel())
    throw InvalidArgument("tensor", std::to_string(count(shape)) + " values for shape " + shape_to_string(shape),
                          std::to_string(numel()));
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

template struct Tensor<float>;
template struct Tensor<double>;
template struct Tensor<int64_t>;
template struct Tensor<uint8_t>;

}  // namespace ctrnn
