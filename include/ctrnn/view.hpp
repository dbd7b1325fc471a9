#pragma once
// Non-owning views of arrays the caller owns, on the host or on a CUDA device, and an opaque
// CUDA stream: how data already on a GPU reaches a network without a host round trip (DLPack's
// DLTensor, reduced to what the library accepts). Needs no CUDA header.
#include <cstdint>
#include <string>

#include "ctrnn/tensor.hpp"

namespace ctrnn {

enum class DType { Float32, Float64 };

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::Float32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::Float64;
}

// Where a view's memory is: the host, or CUDA device `device` (as cudaSetDevice numbers it).
struct Location {
  enum class Kind { Host, Cuda };
  Kind kind = Kind::Host;
  int device = 0;  // CUDA only

  static Location host() { return {}; }
  static Location cuda(int device) { return {Kind::Cuda, device}; }
  bool is_host() const { return kind == Kind::Host; }
  bool operator==(const Location& o) const { return kind == o.kind && (kind == Kind::Host || device == o.device); }
  bool operator!=(const Location& o) const { return !(*this == o); }
};

// A view of `shape` elements of `dtype` at `data`, dense and row-major: `strides` (in elements)
// are empty or the dense row-major ones (a size-1 axis may have any stride); anything else is
// refused. Inputs are only read; outputs are written in place. The caller keeps the memory alive
// and unchanged until the call's work is done (on the host: when the call returns; on a GPU: when
// the call's stream reaches the point where the call left it).
struct View {
  void* data = nullptr;
  Shape shape;
  Shape strides;
  DType dtype = DType::Float32;
  Location location;
};

// A view of a host tensor (inputs: only read, although the pointer is not const).
template <class T>
View view_of(const Tensor<T>& t) {
  return {const_cast<T*>(t.ptr()), t.shape, {}, dtype_of<T>(), Location::host()};
}

// A cudaStream_t, as an opaque handle. Work a call puts on a CUDA device starts after everything
// the caller queued on `handle` before the call, and work the caller queues on `handle` after the
// call starts after the call's work (CUDA events both ways; the host does not wait). null is CUDA's
// default (legacy) stream. CPU networks compute before returning and ignore it.
struct Stream {
  void* handle = nullptr;
};

std::string to_string(DType d);       // "float32", "float64"
std::string to_string(Location l);    // "host memory", "CUDA device 1"

}  // namespace ctrnn
