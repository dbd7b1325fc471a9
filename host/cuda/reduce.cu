// Column sums and the second pass of the per-network reductions (see reduce.hpp).
#include "cuda/launch.cuh"
#include "cuda/reduce.hpp"

namespace ctrnn::kernels {

namespace {

constexpr int kColumns = 32, kRowGroups = 32;

// Block (32 columns x 32 row groups) per 32 columns of one batch entry: each thread sums every
// 32nd row of its column, then the 32 partial sums of a column are added in a fixed order. In
// double: at T B = 1M rows a thread adds 32K terms, whose float running sum would lose ~1e-4
// relative (n eps / 2 in the worst case); the result is rounded to float once.
__global__ void __launch_bounds__(kColumns * kRowGroups)
    column_sums_kernel(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                       float* out, int64_t stride_out) {
  __shared__ double partial[kRowGroups][kColumns + 1];
  const int64_t c = int64_t(blockIdx.x) * kColumns + threadIdx.x;
  for (int64_t b = blockIdx.y; b < batch; b += gridDim.y) {
    double acc = 0.0;
    if (c < cols)
      for (int64_t r = threadIdx.y; r < rows; r += kRowGroups) acc += x[b * stride_x + r * cols + c];
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
      double s = 0.0;
      for (int k = 0; k < kRowGroups; ++k) s += partial[k][threadIdx.x];
      out[b * stride_out + c] = float(double(scale) * s);
    }
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kThreads)
    reduce_finish_kernel(int64_t E, int blocks, const double* partials, double* out, bool accumulate) {
  for (int64_t e = blockIdx.x; e < E; e += gridDim.x) {
    double s = 0;
    for (int k = threadIdx.x; k < blocks; k += blockDim.x) s += partials[e * blocks + k];
    s = block_sum(s);
    if (threadIdx.x == 0) out[e] = accumulate ? out[e] + s : s;
  }
}

}  // namespace

void launch_column_sums(CUstream_st* stream, int64_t batch, int64_t rows, int64_t cols, const float* x,
                        int64_t stride_x, float scale, float* out, int64_t stride_out) {
  if (batch <= 0 || cols <= 0) return;
  const dim3 grid(unsigned((cols + kColumns - 1) / kColumns), unsigned(std::min<int64_t>(batch, 65535)));
  column_sums_kernel<<<grid, dim3(kColumns, kRowGroups), 0, stream>>>(batch, rows, cols, x, stride_x, scale, out,
                                                                       stride_out);
  CTRNN_CUDA_CHECK_LAUNCH("column_sums_kernel", stream);
}

void launch_reduce_finish(CUstream_st* stream, int64_t E, int blocks, const double* partials, double* out,
                          bool accumulate) {
  if (E <= 0) return;
  reduce_finish_kernel<<<unsigned(std::min<int64_t>(E, 65535)), kThreads, 0, stream>>>(E, blocks, partials, out,
                                                                                        accumulate);
  CTRNN_CUDA_CHECK_LAUNCH("reduce_finish_kernel", stream);
}

}  // namespace ctrnn::kernels
