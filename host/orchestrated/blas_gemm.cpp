#include <cblas.h>

#include "orchestrated/blas_primitives.hpp"
#include "orchestrated/orchestrated_backend.hpp"

namespace ctrnn::detail {

void blas_sgemm_batched(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                        int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                        int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0) return;
  for (int64_t i = 0; i < batch; ++i) {
    float* c = C + i * stride_c;
    if (K == 0) {  // C = beta C, with beta == 0 meaning "C is not read"
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) c[m * ldc + n] = beta == 0.0f ? 0.0f : beta * c[m * ldc + n];
      continue;
    }
    if (beta == 0.0f)  // BLAS may compute 0 * C: clear C so that whatever it held cannot leak in
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) c[m * ldc + n] = 0.0f;
    cblas_sgemm(CblasRowMajor, ta == Op::N ? CblasNoTrans : CblasTrans, tb == Op::N ? CblasNoTrans : CblasTrans,
                blasint(M), blasint(N), blasint(K), alpha, A + i * stride_a, blasint(lda), B + i * stride_b,
                blasint(ldb), beta, c, blasint(ldc));
  }
}

std::string blas_description() {
  std::string version = OPENBLAS_VERSION;  // " OpenBLAS 0.3.21 "
  version = version.substr(version.find_first_not_of(' '));
  version = version.substr(0, version.find_last_not_of(' ') + 1);
  return "cpu (" + version + ", " + std::to_string(openblas_get_num_threads()) + " threads)";
}

std::unique_ptr<Backend<float>> make_host_backend(const Config& c) {
  return std::make_unique<OrchestratedBackend<BlasHostPrims>>(c, /*poison=*/false);
}

}  // namespace ctrnn::detail
