#pragma once
// The cuBLAS functions the library calls, under names of its own. cublas_loader.cpp defines them
// as forwarders that load cuBLAS at their first use (linking libcublas would cost every process
// its start-up, GPU run or not). No symbol of cuBLAS's own names (cublas*) is defined, so these
// can never stand in for the cuBLAS of a program or library that links ctrnn too, whether
// libctrnn is shared or static (test: cublas_symbols_not_defined). Library code calls cuBLAS only
// through these: a direct call of a cublas* function fails to link (libcublas is not linked).
#include <cublas_v2.h>  // the types and constants; none of its functions is linked

namespace ctrnn::cuda {
class LazyLibrary;
}

namespace ctrnn::cuda::cublas {

// libcublas itself, opened at the first forwarder's call (or the first library().error()):
// CTRNN_CUBLAS_SONAME, else the build's CTRNN_CUBLAS_PATH (cublas_loader.cpp).
LazyLibrary& library();

cublasStatus_t create(cublasHandle_t* handle);
cublasStatus_t destroy(cublasHandle_t handle);
cublasStatus_t set_stream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t set_workspace(cublasHandle_t handle, void* workspace, size_t bytes);
cublasStatus_t set_math_mode(cublasHandle_t handle, cublasMath_t mode);
const char* status_name(cublasStatus_t status);
const char* status_string(cublasStatus_t status);
cublasStatus_t sgemm_strided_batched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
                                     int n, int k, const float* alpha, const float* A, int lda, long long int strideA,
                                     const float* B, int ldb, long long int strideB, const float* beta, float* C,
                                     int ldc, long long int strideC, int batchCount);

}  // namespace ctrnn::cuda::cublas
