#pragma once
// Checks of user-given tensors, shared by the network and the trainer. Each throws
// InvalidArgument naming `parameter`.
#include <cmath>
#include <string>

#include "ctrnn/error.hpp"
#include "ctrnn/tensor.hpp"
#include "number_text.hpp"

namespace ctrnn::detail {

// Every value of data[0, n) finite (and >= 0 when `nonnegative`).
template <class T>
void check_finite(const T* data, int64_t n, const std::string& parameter, bool nonnegative = false) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(data[i]) || (nonnegative && data[i] < 0))
      throw InvalidArgument(parameter, nonnegative ? "finite values >= 0" : "finite values",
                            number_text(double(data[i])) + " at flat index " + std::to_string(i));
}
template <class T>
void check_finite(const Tensor<T>& t, const std::string& parameter, bool nonnegative = false) {
  check_finite(t.ptr(), t.numel(), parameter, nonnegative);
}

// Accepts `shape` or `shape` with a leading E axis; returns true for the per-network form.
inline bool check_shape_with_ensemble(const Shape& given, const Shape& shape, int64_t E, const std::string& parameter) {
  Shape per_network = shape;
  per_network.insert(per_network.begin(), E);
  if (given == per_network) return true;
  if (given == shape) return false;
  throw InvalidArgument(parameter, "shape " + shape_to_string(shape) + " or " + shape_to_string(per_network),
                        shape_to_string(given));
}
template <class T>
bool check_shape_with_ensemble(const Tensor<T>& t, const Shape& shape, int64_t E, const std::string& parameter) {
  if (Tensor<T>::count(t.shape) != t.numel())
    throw InvalidArgument(parameter, "a tensor whose data matches its shape", shape_to_string(t.shape));
  return check_shape_with_ensemble(t.shape, shape, E, parameter);
}

}  // namespace ctrnn::detail
