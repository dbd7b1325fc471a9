#pragma once
// The generic launches of CudaPrims: apply (one grid-stride kernel per body type) and reduce
// (per-block double partial sums, then a fixed-order second pass). Included only by the
// host/cuda/*.cu files, which instantiate them for their bodies with CTRNN_INSTANTIATE_APPLY /
// CTRNN_INSTANTIATE_REDUCE.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda/cuda_check.hpp"
#include "cuda/cuda_primitives.hpp"
#include "cuda/reduce.hpp"

namespace ctrnn::kernels {

constexpr int kThreads = 256;

// body(i) for i < n. Bodies are small structs of pointers and scalars, passed by value.
template <class F>
__global__ void __launch_bounds__(kThreads) apply_kernel(int64_t n, F body) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) body(i);
}

// Sum over the block (kThreads threads); the result is valid in thread 0. Reusable in a loop.
__device__ inline double block_sum(double x) {
  __shared__ double warp_sums[kThreads / 32];
  for (int offset = 16; offset > 0; offset /= 2) x += __shfl_down_sync(0xffffffffu, x, offset);
  __syncthreads();  // warp_sums may still be read by thread 0 of a previous call
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = x;
  __syncthreads();
  double s = 0;
  if (threadIdx.x == 0)
    for (int w = 0; w < kThreads / 32; ++w) s += warp_sums[w];
  return s;
}

// partials[e * gridDim.x + blockIdx.x] = sum over this block's share of i < n of body(e, i).
template <class F>
__global__ void __launch_bounds__(kThreads) reduce_partials_kernel(int64_t E, int64_t n, F body, double* partials) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t e = blockIdx.y; e < E; e += gridDim.y) {
    double acc = 0;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) acc += body(e, i);
    acc = block_sum(acc);
    if (threadIdx.x == 0) partials[e * gridDim.x + blockIdx.x] = acc;
  }
}

}  // namespace ctrnn::kernels

namespace ctrnn::detail {

template <class F>
void CudaPrims::apply(int64_t n, const F& body) {
  if (n <= 0) return;
  const int64_t blocks = std::min<int64_t>((n + kernels::kThreads - 1) / kernels::kThreads, max_blocks_);
  kernels::apply_kernel<F><<<unsigned(blocks), kernels::kThreads, 0, stream_>>>(n, body);
  CTRNN_CUDA_CHECK_LAUNCH(__PRETTY_FUNCTION__, stream_);  // names the body type
}

template <class F>
void CudaPrims::reduce(int64_t E, int64_t n, const F& body, double* out, bool accumulate) {
  if (E <= 0) return;
  // A fixed grid for a given n: the partial sums, and so the result, do not depend on the device.
  const int blocks = int(std::clamp<int64_t>((n + kernels::kThreads - 1) / kernels::kThreads, 1, 256));
  const size_t need = size_t(E) * size_t(blocks);
  if (partials_.size() < need) partials_.resize(need);
  const dim3 grid(unsigned(blocks), unsigned(std::min<int64_t>(E, 65535)));
  kernels::reduce_partials_kernel<F><<<grid, kernels::kThreads, 0, stream_>>>(E, n, body, partials_.data());
  CTRNN_CUDA_CHECK_LAUNCH(__PRETTY_FUNCTION__, stream_);
  kernels::launch_reduce_finish(stream_, E, blocks, partials_.data(), out, accumulate);
}

}  // namespace ctrnn::detail

#define CTRNN_INSTANTIATE_APPLY(...) \
  template void ::ctrnn::detail::CudaPrims::apply<__VA_ARGS__>(int64_t, const __VA_ARGS__&);
#define CTRNN_INSTANTIATE_REDUCE(...) \
  template void ::ctrnn::detail::CudaPrims::reduce<__VA_ARGS__>(int64_t, int64_t, const __VA_ARGS__&, double*, bool);
