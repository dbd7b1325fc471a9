#pragma once
// HostPrims with every GEMM done by OpenBLAS's cblas_sgemm: the orchestration of the CUDA backend
// (one GEMM for the input drive and the readout over all T, one per step for the recurrence,
// fused per-element bodies) runs on the CPU at BLAS speed. This is the CPU backend of float
// networks when the build has BLAS (CTRNN_WITH_BLAS); the plain reference stays the oracle.
#include <memory>
#include <string>

#include "backend.hpp"
#include "orchestrated/host_primitives.hpp"

namespace ctrnn::detail {

// The row-major strided-batched GEMM of primitives.hpp, one cblas_sgemm per batch item.
void blas_sgemm_batched(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                        int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                        int64_t ldc, int64_t stride_c, int64_t batch);
std::string blas_description();  // "cpu (OpenBLAS 0.3.21, 2 threads)"

struct BlasHostPrims : HostPrims {
  std::string description() const { return blas_description(); }
  void gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
            int64_t stride_c, int64_t batch) {
    blas_sgemm_batched(ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch);
  }
};

}  // namespace ctrnn::detail
