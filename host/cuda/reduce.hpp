#pragma once
// Reductions on the GPU (reduce.cu): column sums, and the second pass of CudaPrims::reduce.
// Host semantics are HostPrims::column_sums and HostPrims::reduce (host/orchestrated/host_primitives.hpp).
#include <cstdint>

struct CUstream_st;

namespace ctrnn::kernels {

// out[b * stride_out + c] = scale * sum_{r < rows} x[b * stride_x + r * cols + c] for b < batch:
// bias and h0 gradients (over T B or B rows) and the mean rate of the loss.
void launch_column_sums(CUstream_st* stream, int64_t batch, int64_t rows, int64_t cols, const float* x,
                        int64_t stride_x, float scale, float* out, int64_t stride_out);

// out[e] (+)= sum_{k < blocks} partials[e * blocks + k] for e < E, in a fixed order, so a
// reduction gives the same bits on every run.
void launch_reduce_finish(CUstream_st* stream, int64_t E, int blocks, const double* partials, double* out,
                          bool accumulate);

}  // namespace ctrnn::kernels
