#pragma once
// The one row-major -> column-major GEMM mapping and the argument list CudaPrims::gemm hands
// cublasSgemmStridedBatched (row_major_sgemm), and a host statement of that function's
// documented column-major semantics with its argument checks, so CI runs the whole orchestration
// through the very call cuBLAS gets, without a GPU (tests/test_host_orchestration.cpp).
//
// A row-major X (r x c, row stride ld) is, read column-major, X^T (c x r, leading dimension ld).
// So the row-major C (M x N) = op(A) op(B) is the column-major C^T (N x M) = op(B)^T op(A)^T:
// cuBLAS gets B first with B's transpose flag, then A with A's flag, and m = N, n = M.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "ctrnn/error.hpp"

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

// A GEMM dimension as cuBLAS's int, or InvalidArgument naming it.
inline int cublas_int(int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw InvalidArgument(what, "a GEMM dimension that fits cuBLAS's int", std::to_string(v));
  return int(v);
}

// The row-major GEMM of primitives.hpp as one call of cublasSgemmStridedBatched: `sgemm` receives
// exactly that function's arguments after the handle, in its documented order (transa, transb,
// m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batchCount), the ops
// as Op. CudaPrims::gemm passes cuBLAS itself; the host tests pass host_sgemm_strided_batched, so
// they check the very argument list cuBLAS gets. Nothing is called for an empty result.
template <class Sgemm>
void row_major_sgemm(Sgemm&& sgemm, Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                     float* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  const ColumnMajorGemm g =
      row_major_to_column_major(ta, tb, M, N, K, A, lda, stride_a, B, ldb, stride_b, C, ldc, stride_c, batch);
  sgemm(g.transa, g.transb, cublas_int(g.m, "gemm m"), cublas_int(g.n, "gemm n"), cublas_int(g.k, "gemm k"), &alpha,
        g.A, cublas_int(g.lda, "gemm lda"), static_cast<long long>(g.stride_a), g.B, cublas_int(g.ldb, "gemm ldb"),
        static_cast<long long>(g.stride_b), &beta, g.C, cublas_int(g.ldc, "gemm ldc"),
        static_cast<long long>(g.stride_c), cublas_int(g.batch, "gemm batch"));
}

// What cuBLAS refuses with CUBLAS_STATUS_INVALID_VALUE: "" when the arguments are valid.
inline std::string column_major_gemm_invalid(Op transa, Op transb, int64_t m, int64_t n, int64_t k, int64_t lda,
                                             int64_t ldb, int64_t ldc, int64_t batch) {
  auto at_least_1 = [](int64_t v) { return v > 1 ? v : int64_t(1); };
  if (m < 0 || n < 0 || k < 0 || batch < 0) return "negative dimension";
  if (lda < at_least_1(transa == Op::N ? m : k)) return "lda " + std::to_string(lda) + " too small";
  if (ldb < at_least_1(transb == Op::N ? k : n)) return "ldb " + std::to_string(ldb) + " too small";
  if (ldc < at_least_1(m)) return "ldc " + std::to_string(ldc) + " too small";
  return "";
}

// cublasSgemmStridedBatched's documented column-major semantics on the host, with its signature
// (the handle aside): C_i = alpha op(A_i) op(B_i) + beta C_i, element (r, c) of C at
// C[r + c ldc], op(A) m x k, op(B) k x n; beta == 0 does not read C. Plain loops, for host tests.
inline void host_sgemm_strided_batched(Op transa, Op transb, int m, int n, int k, const float* alpha, const float* A,
                                       int lda, long long stride_a, const float* B, int ldb, long long stride_b,
                                       const float* beta, float* C, int ldc, long long stride_c, int batch) {
  const std::string invalid = column_major_gemm_invalid(transa, transb, m, n, k, lda, ldb, ldc, batch);
  if (!invalid.empty()) throw std::invalid_argument("cublasSgemmStridedBatched would refuse: " + invalid);
  for (int64_t i = 0; i < batch; ++i) {
    const float* a = A + i * stride_a;
    const float* b = B + i * stride_b;
    float* c = C + i * stride_c;
    for (int64_t col = 0; col < n; ++col)
      for (int64_t row = 0; row < m; ++row) {
        float acc = 0.0f;
        for (int64_t l = 0; l < k; ++l) {
          const float x = transa == Op::N ? a[row + l * lda] : a[l + row * lda];
          const float y = transb == Op::N ? b[l + col * ldb] : b[col + l * ldb];
          acc += x * y;
        }
        float& out = c[row + col * ldc];
        out = *beta == 0.0f ? *alpha * acc : *alpha * acc + *beta * out;
      }
  }
}

}  // namespace ctrnn::detail
