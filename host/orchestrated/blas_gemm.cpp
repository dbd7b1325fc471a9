#include <algorithm>

#include "orchestrated/blas_primitives.hpp"
#include "orchestrated/openblas_api.hpp"
#include "orchestrated/orchestrated_backend.hpp"

namespace ctrnn::detail {
namespace {

// Products below this many FLOPs per thread run on fewer threads (on one when small): a product
// of 2 MFLOP takes ~20-40 us on one core, waking a second thread a few us.
constexpr double kMinFlopsPerThread = double(1 << 21);

// OpenBLAS on one thread for the life of the guard (the pieces of a product run on the backend's
// threads), its previous count restored after.
class BlasOnOneThread {
 public:
  BlasOnOneThread() : saved_(CTRNN_OPENBLAS(openblas_get_num_threads)()) {
    if (saved_ != 1) CTRNN_OPENBLAS(openblas_set_num_threads)(1);
  }
  ~BlasOnOneThread() {
    if (saved_ != 1) CTRNN_OPENBLAS(openblas_set_num_threads)(saved_);
  }
  BlasOnOneThread(const BlasOnOneThread&) = delete;
  BlasOnOneThread& operator=(const BlasOnOneThread&) = delete;

 private:
  int saved_;
};

// One row-major product C (M x N) = alpha op(A) op(B) + beta C on the calling thread.
void sgemm_one(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta C, with beta == 0 meaning "C is not read"
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
    return;
  }
  // beta == 0: OpenBLAS does not read C (it zeroes C first, as BLAS specifies; the NaN-filled C
  // of BlasGemm.EqualsThePlainLoops checks it), so no pass of our own over C.
  CTRNN_OPENBLAS(cblas_sgemm)(CblasRowMajor, ta == Op::N ? CblasNoTrans : CblasTrans,
                              tb == Op::N ? CblasNoTrans : CblasTrans, blasint(M), blasint(N), blasint(K), alpha, A,
                              blasint(lda), B, blasint(ldb), beta, C, blasint(ldc));
}

}  // namespace

void blas_sgemm_batched(int threads, Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                        int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                        float* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  const double flops = 2.0 * double(M) * double(N) * double(K) * double(batch);
  const int parts = int(std::max(1.0, std::min(double(threads), flops / kMinFlopsPerThread)));
  // Each item cut into `pieces` blocks of C's rows (when M > N) or columns: every piece is a whole
  // product over K, so each element of C is computed by one thread, in OpenBLAS's order.
  const int64_t pieces = pieces_per_item(batch, parts);
  const bool split_rows = M > N;
  const BlasOnOneThread one_thread;
  parallel_ranges(parts, batch * pieces, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t i = p / pieces, q = p % pieces, extent = split_rows ? M : N;
      const int64_t begin = extent * q / pieces, end = extent * (q + 1) / pieces;
      const float* a = A + i * stride_a;
      const float* b = B + i * stride_b;
      float* c = C + i * stride_c;
      if (split_rows) {  // rows [begin, end) of op(A) and C
        a += ta == Op::N ? begin * lda : begin;
        c += begin * ldc;
        sgemm_one(ta, tb, end - begin, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
      } else {  // columns [begin, end) of op(B) and C
        b += tb == Op::N ? begin : begin * ldb;
        c += begin;
        sgemm_one(ta, tb, M, end - begin, K, alpha, a, lda, b, ldb, beta, c, ldc);
      }
    }
  });
}

int blas_thread_count() { return CTRNN_OPENBLAS(openblas_get_num_threads)(); }

namespace {

// OpenBLAS's kernel set, chosen by its run-time CPU detection. On a CPU newer than the OpenBLAS
// build (OpenBLAS 0.3.21 on Emerald Rapids, for one) the detection falls back to its generic
// x86-64 kernels, Prescott (SSE3), and every product runs 2-3x slower than with the kernels the
// CPU can run (bench/RESULTS.md); OPENBLAS_CORETYPE, read when OpenBLAS loads, chooses them.
std::string blas_kernels() {
  const std::string core = CTRNN_OPENBLAS(openblas_get_corename)();
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (core == "Prescott" && __builtin_cpu_supports("avx512f"))
    return core + " kernels; OPENBLAS_CORETYPE=SkylakeX is faster on this CPU";
  if (core == "Prescott" && __builtin_cpu_supports("avx2"))
    return core + " kernels; OPENBLAS_CORETYPE=Haswell is faster on this CPU";
#endif
  return core + " kernels";
}

}  // namespace

std::string blas_description(int threads) {
  std::string version = OPENBLAS_VERSION;  // " OpenBLAS 0.3.21 "
  version = version.substr(version.find_first_not_of(' '));
  version = version.substr(0, version.find_last_not_of(' ') + 1);
  return "cpu (" + version + ", " + blas_kernels() + ", " + std::to_string(threads) + " threads)";
}

std::unique_ptr<Backend<float>> make_host_backend(const Config& c) {
  return std::make_unique<OrchestratedBackend<BlasHostPrims>>(c, /*poison=*/false);
}

}  // namespace ctrnn::detail
