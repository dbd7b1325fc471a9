#pragma once
// The one error path of the CUDA backend: every CUDA runtime and cuBLAS call, and every kernel
// launch, goes through CTRNN_CUDA_CHECK / CTRNN_CUBLAS_CHECK / CTRNN_CUDA_CHECK_LAUNCH, which
// throw ctrnn::cuda::CudaError naming the call, the file and the line. Library code never exits.
// A failed runtime call also leaves its error as the runtime's "last error", which the next
// launch check (cudaGetLastError) would report as that innocent kernel's failure: check_cuda
// reads it, and so clears it, before throwing, so that each error names its own call (issue 24,
// defect 2). A sticky error (the context is lost) stays: every later call reports it anyway.
// Defined in cuda_check.cpp; for CUDA-aware translation units only (includes the CUDA runtime
// and cuBLAS headers).
#include <cuda_runtime_api.h>

#include <string>

#include "cuda/cublas.hpp"
#include "cuda/cuda_error.hpp"

namespace ctrnn::cuda {

[[noreturn]] void throw_cuda_error(const std::string& what, const char* call, const char* file, int line);

inline void check_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();
  throw_cuda_error(std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e), call, file, line);
}

inline void check_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw_cuda_error(std::string(cublas::status_name(s)) + ": " + cublas::status_string(s), call, file, line);
}

// After a launch: the launch's own error, and with CTRNN_CUDA_SYNC_CHECK=1 in the environment
// also the kernel's execution error (synchronizes; for debugging, so a fault names its kernel).
void check_launch(const char* kernel, cudaStream_t stream, const char* file, int line);
// Whether CTRNN_CUDA_SYNC_CHECK asks for that (set, not empty, not "0").
bool sync_check_enabled();

}  // namespace ctrnn::cuda

#define CTRNN_CUDA_CHECK(call) ::ctrnn::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define CTRNN_CUBLAS_CHECK(call) ::ctrnn::cuda::check_cublas((call), #call, __FILE__, __LINE__)
#define CTRNN_CUDA_CHECK_LAUNCH(kernel, stream) ::ctrnn::cuda::check_launch((kernel), (stream), __FILE__, __LINE__)
