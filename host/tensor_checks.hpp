#pragma once
// Checks of user-given tensors, shared by the network and the trainer. Each throws
// InvalidArgument naming `parameter`.
#include <cmath>
#include <string>

#include "ctrnn/error.hpp"
#include "ctrnn/tensor.hpp"
#include "number_text.hpp"

namespace ctrnn::detail {

// Whether data[0, n) holds a value that is not finite (or < 0 when `nonnegative`), as one pass of
// independent lanes that the compiler vectorizes: x * 0 is 0 for a finite x and NaN for an
// infinite or NaN one, and a NaN stays in its lane's sum. (An early-exit loop of std::isfinite
// does not vectorize; on a training step's inputs it cost ~5x as much.)
template <class T>
bool has_nonfinite(const T* data, int64_t n, bool nonnegative) {
  constexpr int kLanes = 64 / sizeof(T);
  T sum[kLanes] = {}, low[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      sum[l] += data[i + l] * T(0);
      low[l] = data[i + l] < low[l] ? data[i + l] : low[l];
    }
  for (int l = 0; i + l < n; ++l) {
    sum[l] += data[i + l] * T(0);
    low[l] = data[i + l] < low[l] ? data[i + l] : low[l];
  }
  T all = 0, lowest = 0;
  for (int l = 0; l < kLanes; ++l) {
    all += sum[l];
    lowest = low[l] < lowest ? low[l] : lowest;
  }
  return !(all == 0) || (nonnegative && lowest < 0);
}

// Every value of data[0, n) finite (and >= 0 when `nonnegative`); the error names the first other.
template <class T>
void check_finite(const T* data, int64_t n, const std::string& parameter, bool nonnegative = false) {
  if (!has_nonfinite(data, n, nonnegative)) return;
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
