#pragma once
// Small per-element bodies (CTRNN_HD) the orchestration uses between the GEMMs: fill, a bias
// broadcast over rows, an in-place add. Launchers: CudaPrims::apply<Body> (host/cuda/launch.cuh),
// instantiated in host/cuda/elementwise.cu.
#include <cstdint>

#include "kernels/host_device.hpp"

namespace ctrnn::kernels {

// x[i] = value (float or double)
template <class T>
struct Fill {
  T* x;
  T value;
  CTRNN_HD void operator()(int64_t i) const { x[i] = value; }
};

// out (E, rows, cols)[e][r][c] = bias (E, cols)[e][c]: the readout bias, before the readout GEMM
// accumulates onto it.
struct BroadcastRows {
  float* out;
  const float* bias;
  int64_t rows, cols;
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t per_network = rows * cols, e = i / per_network;
    out[i] = bias[e * cols + i % cols];
  }
};

// dst[i] += src[i]
struct AddInto {
  float* dst;
  const float* src;
  CTRNN_HD void operator()(int64_t i) const { dst[i] += src[i]; }
};

// dst (E, n) = src slab of each network: dst[e][k] = src[e * src_stride + k]
struct GatherSlabs {
  float* dst;
  const float* src;
  int64_t n, src_stride;
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / n;
    dst[i] = src[e * src_stride + (i - e * n)];
  }
};

}  // namespace ctrnn::kernels
