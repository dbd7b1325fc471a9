#pragma once
// Checks of user-given tensors, shared by the network and the trainer. Each throws
// InvalidArgument naming `parameter`.
#include <cmath>
#include <string>

#include "ctrnn/error.hpp"
#include "ctrnn/tensor.hpp"

namespace ctrnn::detail {

// Every value finite (and >= 0 when `nonnegative`).
template <class T>
void check_finite(const Tensor<T>& t, const std::string& parameter, bool nonnegative = false) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data[i]) || (nonnegative && t.data[i] < 0))
      throw InvalidArgument(parameter, nonnegative ? "finite values >= 0" : "finite values",
                            std::to_string(t.data[i]) + " at flat index " + std::to_string(i));
}

// Accepts `shape` or `shape` with a leading E axis; returns true for the per-network form.
template <class T>
bool check_shape_with_ensemble(const Tensor<T>& t, const Shape& shape, int64_t E, const std::string& parameter) {
  Shape per_network = shape;
  per_network.insert(per_network.begin(), E);
  if (Tensor<T>::count(t.shape) != t.numel())
    throw InvalidArgument(parameter, "a tensor whose data matches its shape", shape_to_string(t.shape));
  if (t.shape == per_network) return true;
  if (t.shape == shape) return false;
  throw InvalidArgument(parameter, "shape " + shape_to_string(shape) + " or " + shape_to_string(per_network),
                        shape_to_string(t.shape));
}

}  // namespace ctrnn::detail
