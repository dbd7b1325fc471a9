#include <algorithm>
#include <mutex>
#include <vector>

#include "orchestrated/blas_primitives.hpp"
#include "orchestrated/network_parallel_backend.hpp"
#include "orchestrated/openblas_api.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "orchestrated/small_gemm.hpp"

namespace ctrnn::detail {
namespace {

// Products below this many FLOPs per thread run on fewer threads (on one when small): a product
// of 2 MFLOP takes ~20-40 us on one core, waking a second thread a few us.
constexpr double kMinFlopsPerThread = double(1 << 21);
// The cut of a product into pieces depends on its shape only (cut_of), so every element of C
// comes from the same OpenBLAS calls, summed in the same order, hence the same bits, whatever the
// thread count. OpenBLAS's value of an element depends on the call's M and N, not only on its row
// and column (a product of 100 x 112 x 112 cut into two calls of 56 columns differs in the last
// bits from one call), so a cut by thread count changed the sums (issue 23).
// A cut costs work on one thread: each piece packs its operands again. A cut of C's rows packs
// op(B) (K x N) once more per extra piece, a cut of its columns op(A) (M x K); a cut of the sum
// over K packs nothing twice but writes each extra piece's M x N partial product and adds it into
// C (in piece order). cut_of takes the cheapest of the three and at most as many pieces as keep
// that extra traffic at one float per kMinFlopsPerExtraFloat FLOPs (4-8% of the product on one
// core: a float packed again costs about as much as 20-40 FLOPs of the sgemm kernel). Pieces of at
// least 2 MFLOP and 32 rows, columns or terms; at most 16 per product in all, enough for 16
// threads, a power of two per item, so that 2, 4, 8 or 16 threads get equal shares. Measured in
// bench/RESULTS.md (issue 19's section on the cut).
constexpr double kMinFlopsPerPiece = double(1 << 21);
constexpr double kMinFlopsPerExtraFloat = 512;
constexpr int64_t kMinPieceExtent = 32;
constexpr int64_t kPiecesPerProduct = 16;
// The partial products of a cut over K live in a buffer of the calling thread, at most this many
// floats (16 MiB): a cut that needs more takes fewer pieces.
constexpr int64_t kMaxPartialFloats = int64_t(1) << 22;

GemmCut cut_of(int64_t M, int64_t N, int64_t K, int64_t batch) {
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const int64_t most = std::min(int64_t(std::min(flops / kMinFlopsPerPiece, 1e6)), (kPiecesPerProduct + batch - 1) / batch);
  const auto power_of_two_below = [](int64_t limit) {
    int64_t p = 1;
    while (p * 2 <= limit) p *= 2;
    return p;
  };
  GemmCut best;
  double best_extra = 0;
  for (GemmCut::Along along : {GemmCut::Rows, GemmCut::Columns, GemmCut::Depth}) {
    const int64_t extent = along == GemmCut::Rows ? M : along == GemmCut::Columns ? N : K;
    // Floats moved again per extra piece (see above).
    const double per_piece = along == GemmCut::Rows      ? double(K) * double(N)
                             : along == GemmCut::Columns ? double(M) * double(K)
                                                          : 2.0 * double(M) * double(N);
    int64_t limit = std::min(most, extent / kMinPieceExtent);
    limit = std::min(limit, int64_t(1 + std::min(flops / (kMinFlopsPerExtraFloat * std::max(per_piece, 1.0)), 1e6)));
    if (along == GemmCut::Depth) limit = std::min(limit, 1 + kMaxPartialFloats / std::max<int64_t>(M * N * batch, 1));
    const int64_t pieces = power_of_two_below(limit);
    const double extra = double(pieces - 1) * per_piece;
    // More pieces first (parallelism), then less extra work; ties keep the earlier (rows, columns).
    if (pieces > best.pieces || (pieces == best.pieces && pieces > 1 && extra < best_extra)) {
      best = {along, pieces};
      best_extra = extra;
    }
  }
  return best;
}

// OpenBLAS on one thread while any product of ours runs (the pieces of a product run on the
// backend's threads), its previous count restored when the last one ends. Process-wide and counted:
// networks used from several threads at once share it, so that none restores the count while
// another's product runs and none takes the one thread set by another for the user's count.
class BlasOnOneThread {
 public:
  BlasOnOneThread() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (active_++ == 0) {
      saved_ = CTRNN_OPENBLAS(openblas_get_num_threads)();
      if (saved_ != 1) CTRNN_OPENBLAS(openblas_set_num_threads)(1);
    }
  }
  ~BlasOnOneThread() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--active_ == 0 && saved_ != 1) CTRNN_OPENBLAS(openblas_set_num_threads)(saved_);
  }
  BlasOnOneThread(const BlasOnOneThread&) = delete;
  BlasOnOneThread& operator=(const BlasOnOneThread&) = delete;

  // OpenBLAS's thread count as the user set it (not the 1 of a product running now).
  static int user_count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return active_ > 0 ? saved_ : CTRNN_OPENBLAS(openblas_get_num_threads)();
  }
  // Sets the user's count: now, or when the products running now end.
  static void set_user_count(int threads) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (active_ > 0)
      saved_ = threads;
    else
      CTRNN_OPENBLAS(openblas_set_num_threads)(threads);
  }

 private:
  static inline std::mutex mutex_;
  static inline int active_ = 0;  // products running
  static inline int saved_ = 1;   // the count before the first of them
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
  // The per-step products and narrow weight gradients: our kernel, faster there (small_gemm.hpp).
  if (tb == Op::N && small_sgemm_takes(ta == Op::T, M, N, K)) {
    small_sgemm(ta == Op::T, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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
  const GemmCut cut = cut_of(M, N, K, batch);
  const int64_t pieces = cut.pieces;
  const double flops = 2.0 * double(M) * double(N) * double(K) * double(batch);
  const int parts = int(std::max(1.0, std::min({double(threads), flops / kMinFlopsPerThread, double(batch * pieces)})));
  // A cut over K: piece 0 of an item computes alpha op(A) op(B) + beta C into C, pieces 1.. their
  // alpha op(A) op(B) into partial (item i, piece q at ((i (pieces - 1) + q - 1) M N), added into C
  // in piece order below.
  thread_local std::vector<float> partial_buffer;
  float* partial = nullptr;
  if (cut.along == GemmCut::Depth && pieces > 1) {
    partial_buffer.resize(std::max(partial_buffer.size(), size_t(batch * (pieces - 1) * M * N)));
    partial = partial_buffer.data();
  }
  const BlasOnOneThread one_thread;
  parallel_ranges(parts, batch * pieces, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t i = p / pieces, q = p % pieces;
      const int64_t extent = cut.along == GemmCut::Rows ? M : cut.along == GemmCut::Columns ? N : K;
      const int64_t begin = extent * q / pieces, end = extent * (q + 1) / pieces;
      const float* a = A + i * stride_a;
      const float* b = B + i * stride_b;
      float* c = C + i * stride_c;
      if (cut.along == GemmCut::Rows) {  // rows [begin, end) of op(A) and C
        a += ta == Op::N ? begin * lda : begin;
        c += begin * ldc;
        sgemm_one(ta, tb, end - begin, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
      } else if (cut.along == GemmCut::Columns) {  // columns [begin, end) of op(B) and C
        b += tb == Op::N ? begin : begin * ldb;
        c += begin;
        sgemm_one(ta, tb, M, end - begin, K, alpha, a, lda, b, ldb, beta, c, ldc);
      } else {  // terms [begin, end) of the sum: columns of op(A), rows of op(B)
        a += ta == Op::N ? begin : begin * lda;
        b += tb == Op::N ? begin * ldb : begin;
        if (q == 0) sgemm_one(ta, tb, M, N, end - begin, alpha, a, lda, b, ldb, beta, c, ldc);
        else sgemm_one(ta, tb, M, N, end - begin, alpha, a, lda, b, ldb, 0.0f, partial + (i * (pieces - 1) + q - 1) * M * N, N);
      }
    }
  });
  if (!partial) return;
  // C += the partial products, in piece order for every element (rows of all items on the threads).
  const int add_parts = int(std::max<int64_t>(1, std::min<int64_t>(threads, batch * M * N * (pieces - 1) / (int64_t(1) << 16))));
  parallel_ranges(add_parts, batch * M, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t i = r / M, m = r % M;
      float* c = C + i * stride_c + m * ldc;
      for (int64_t q = 1; q < pieces; ++q) {
        const float* part = partial + (i * (pieces - 1) + q - 1) * M * N + m * N;
        for (int64_t n = 0; n < N; ++n) c[n] += part[n];
      }
    }
  });
}

void transpose_matrix(int64_t rows, int64_t cols, const float* __restrict src, float* __restrict dst) {
  constexpr int64_t kTile = 16;  // tiles of 16 x 16: the lines of src and dst a tile touches stay in L1
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
    }
}

GemmCut blas_gemm_cut(int64_t M, int64_t N, int64_t K, int64_t batch) { return cut_of(M, N, K, batch); }

int blas_thread_count() { return BlasOnOneThread::user_count(); }
void set_blas_thread_count(int threads) { BlasOnOneThread::set_user_count(threads); }

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

// One network: the orchestrated sequence; an ensemble: its networks one by one, spread over the
// threads (network_parallel_backend.hpp says why).
std::unique_ptr<Backend<float>> make_host_backend(const Config& c) {
  if (c.ensemble_size > 1) return std::make_unique<NetworkParallelBackend>(c, /*poison=*/false);
  return std::make_unique<OrchestratedBackend<BlasHostPrims>>(c, /*poison=*/false);
}

}  // namespace ctrnn::detail
