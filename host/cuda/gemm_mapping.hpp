#pragma once
// The one row-major -> column-major GEMM mapping (used by CudaPrims::gemm for cuBLAS), and a host
// statement of cublasSgemmStridedBatched's documented column-major semantics, including its
// argument checks, so CI can run the whole orchestration through the mapping without a GPU
// (tests/test_host_orchestration.cpp, ColumnMajorHostPrims).
//
// A row-major X (r x c, row stride ld) is, read column-major, X^T (c x r, leading dimension ld).
// So the row-major C (M x N) = op(A) op(B) is the column-major C^T (N x M) = op(B)^T op(A)^T:
// cuBLAS gets B first with B's transpose flag, then A with A's flag, and m = N, n = M.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "orchestrated/primitives.hpp"

namespace ctrnn::detail {

// The arguments of cublasSgemmStridedBatched (alpha and beta aside), column-major.
struct ColumnMajorGemm {
  Op transa, transb;
  int64_t m, n, k;
  const float* A;
  int64_t lda, stride_a;
  const float* B;
  int64_t ldb, stride_b;
  float* C;
  int64_t ldc, stride_c;
  int64_t batch;
};

inline ColumnMajorGemm row_major_to_column_major(Op ta, Op tb, int64_t M, int64_t N, int64_t K, const float* A,
                                                 int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                                                 int64_t stride_b, float* C, int64_t ldc, int64_t stride_c,
                                                 int64_t batch) {
  return {tb, ta, N, M, K, B, ldb, stride_b, A, lda, stride_a, C, ldc, stride_c, batch};
}

// What cuBLAS refuses with CUBLAS_STATUS_INVALID_VALUE: "" when the arguments are valid.
inline std::string column_major_gemm_invalid(const ColumnMajorGemm& g) {
  auto at_least_1 = [](int64_t v) { return v > 1 ? v : int64_t(1); };
  if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0) return "negative dimension";
  if (g.lda < at_least_1(g.transa == Op::N ? g.m : g.k)) return "lda " + std::to_string(g.lda) + " too small";
  if (g.ldb < at_least_1(g.transb == Op::N ? g.k : g.n)) return "ldb " + std::to_string(g.ldb) + " too small";
  if (g.ldc < at_least_1(g.m)) return "ldc " + std::to_string(g.ldc) + " too small";
  return "";
}

// C_i = alpha op(A_i) op(B_i) + beta C_i, column-major: element (r, c) of C at C[r + c ldc],
// op(A) m x k, op(B) k x n; beta == 0 does not read C. Plain loops, for host tests only.
inline void column_major_sgemm_reference(const ColumnMajorGemm& g, float alpha, float beta) {
  const std::string invalid = column_major_gemm_invalid(g);
  if (!invalid.empty()) throw std::invalid_argument("cublasSgemmStridedBatched would refuse: " + invalid);
  for (int64_t i = 0; i < g.batch; ++i) {
    const float* a = g.A + i * g.stride_a;
    const float* b = g.B + i * g.stride_b;
    float* c = g.C + i * g.stride_c;
    for (int64_t col = 0; col < g.n; ++col)
      for (int64_t row = 0; row < g.m; ++row) {
        float acc = 0.0f;
        for (int64_t l = 0; l < g.k; ++l) {
          const float x = g.transa == Op::N ? a[row + l * g.lda] : a[l + row * g.lda];
          const float y = g.transb == Op::N ? b[l + col * g.ldb] : b[col + l * g.ldb];
          acc += x * y;
        }
        float& out = c[row + col * g.ldc];
        out = beta == 0.0f ? alpha * acc : alpha * acc + beta * out;
      }
  }
}

}  // namespace ctrnn::detail
