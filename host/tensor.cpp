#include "ctrnn/tensor.hpp"

#include "ctrnn/error.hpp"

namespace ctrnn {

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
