#pragma once
// CTRNN_HD marks code that runs both in CUDA kernels and in host loops: the per-element bodies of
// the fused kernels are written once with it, so CI (no GPU) runs the same arithmetic on the host.
#if defined(__CUDACC__)
#define CTRNN_HD __host__ __device__
#else
#define CTRNN_HD
#endif
