// The small products' kernel (small_gemm.hpp): small_gemm_block.inc compiled for AVX2 + FMA and
// for AVX-512, the set chosen once by the CPU at run time. The headers the kernels use are
// included outside the target regions, so no inline function of theirs is compiled for an
// instruction set the CPU may lack (as host/normal_fill.cpp does).
#include "orchestrated/small_gemm.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "cpu_features.hpp"

#ifdef CTRNN_CPU_DISPATCH
#include <immintrin.h>
#endif

namespace ctrnn::detail {
namespace {

#ifdef CTRNN_CPU_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
struct Ops {
  using V = __m256;
  using Mask = __m256i;  // lanes to load and store: all bits set
  static constexpr int kWidth = 8, kPanel = 2, kRows = 6;  // 12 accumulators, 2 B vectors, A: 15 of 16 registers
  static V zero() { return _mm256_setzero_ps(); }
  static V splat(float x) { return _mm256_set1_ps(x); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V x) { _mm256_storeu_ps(p, x); }
  static void store(float* p, V x, Mask m) { _mm256_maskstore_ps(p, m, x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static Mask mask_of(int lanes) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};
#include "small_gemm_block.inc"
#include "small_gemm_narrow.inc"
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma,prefer-vector-width=512")
namespace avx512 {
struct Ops {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int kWidth = 16, kPanel = 4, kRows = 6;  // 24 accumulators, 4 B vectors, A: 29 of 32 registers
  static V zero() { return _mm512_setzero_ps(); }
  static V splat(float x) { return _mm512_set1_ps(x); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V x) { _mm512_storeu_ps(p, x); }
  static void store(float* p, V x, Mask m) { _mm512_mask_storeu_ps(p, m, x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static Mask mask_of(int lanes) { return Mask((1u << lanes) - 1u); }
};
#include "small_gemm_block.inc"
}  // namespace avx512
#pragma GCC pop_options
#endif

bool cpu_has(GemmIsa isa) {
  if (isa == GemmIsa::Avx2) return cpu_has_avx2_fma();
  if (isa == GemmIsa::Avx512) return cpu_has_avx512f();
  return isa == GemmIsa::None;
}

GemmIsa resolve(GemmIsa isa) {
  static const GemmIsa best = cpu_has(GemmIsa::Avx512) ? GemmIsa::Avx512
                              : cpu_has(GemmIsa::Avx2) ? GemmIsa::Avx2
                                                       : GemmIsa::None;
  return isa == GemmIsa::Best ? best : isa;
}

}  // namespace

bool small_gemm_isa_available(GemmIsa isa) { return isa == GemmIsa::Best || cpu_has(isa); }

// The shapes where the kernel beat OpenBLAS 0.3.34 (SkylakeX kernels for AVX-512, Haswell ones for
// AVX2) in bench_sgemm's shape benchmarks (bench/RESULTS.md: issue 19's fourth session on Intel,
// "CPU: the small products on an AMD EPYC"):
//   - A B with 16 <= N <= 256 and K <= 256: the per-step recurrent products (B x H x H), 4-20%
//     faster at H = 64..256; the input drive u W_in and BPTT's gy W_out^T (T B x H x a few: K = I
//     or O), 1.05-1.2x faster on Intel (AVX-512, AVX2), 1.06x on an AMD EPYC (AVX2; 2x against
//     Debian's OpenBLAS 0.3.21);
//   - A^T B with 16 <= N <= 128 and A at most 64K floats: dW_in (I x H x T B, 2x faster) and the
//     pieces of dW_hid at H <= 64 (64 x 64 x 800: 1.2x on Intel, 0.97x on the AMD EPYC), which
//     OpenBLAS packs first; with a larger A (128 x 128 x 800, or dW_hid uncut) OpenBLAS's packed
//     kernel wins by 1.1-1.3x.
//   - A^T B with N < 16 <= M <= 128 and B at most 64K floats (dW_out: H x O x T B), computed as
//     (B^T A)^T, the dW_in shape: 2.1x faster than OpenBLAS on an AMD EPYC (41.6 against 86.5 us).
//   - A B with N <= 4 and K >= 16 (the readout r W_out: a few outputs) on an AVX2 CPU, by the
//     narrow kernel (small_gemm_narrow.inc): 1.1-1.8x faster than OpenBLAS on an AMD EPYC (52.6
//     against 63.4 us at 3200 x 4 x 64, 390 against 590 at 6400 x 4 x 256; N = 1, 2, 3 too). Not
//     on an AVX-512 CPU: OpenBLAS's SkylakeX kernel ran 3200 x 4 x 64 in 25 us on an Intel Xeon,
//     and the narrow kernel is unmeasured there (as it is below K = 16).
// Other A B with N < 16 fill one vector lane in four or fewer in the block kernel and lose 3-7x.
bool small_sgemm_takes(bool transpose_a, int64_t M, int64_t N, int64_t K, GemmIsa isa) {
  const GemmIsa kernel = resolve(isa);
  if (kernel == GemmIsa::None) return false;
  if (transpose_a && N < 16) return M >= 16 && small_sgemm_takes(true, N, M, K, isa);  // the product it computes
#ifdef CTRNN_CPU_DISPATCH
  if (!transpose_a && N <= avx2::kNarrowMaxN) return kernel == GemmIsa::Avx2 && M >= 8 && K >= 16;
#endif
  if (N < 16) return false;
  if (!transpose_a) return N <= 256 && K <= 256;
  return N <= 128 && M * K <= (int64_t(1) << 16);
}

void small_sgemm(bool transpose_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc, GemmIsa isa) {
  if (transpose_a && N < 16 && M >= 16) {
    // A narrow B: C^T = B^T A (N x M) has long rows, which fill the vectors; then C from it, with
    // beta as the kernel adds it (each element's sum is the same FMAs in the same k order).
    thread_local std::vector<float> ct;
    ct.resize(size_t(M * N));
    small_sgemm(true, N, M, K, alpha, B, ldb, A, lda, 0.0f, ct.data(), M, isa);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const float x = ct[size_t(j * M + i)];
        float& c = C[i * ldc + j];
        c = beta == 0.0f ? x : beta == 1.0f ? x + c : x + beta * c;
      }
    return;
  }
  const GemmIsa kernel = resolve(isa);
#ifdef CTRNN_CPU_DISPATCH
  if (!transpose_a && N <= avx2::kNarrowMaxN && M >= 8 && kernel != GemmIsa::None) {
    // A narrow B (the readout): C's rows eight at a time down the lanes (small_gemm_narrow.inc;
    // AVX2 code, which every AVX-512 CPU runs, and the same bits as either set's block kernel),
    // the last M % 8 rows by the block kernel.
    const int64_t rows = M / 8 * 8;
    avx2::narrow_product(rows, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (rows < M) small_sgemm(false, M - rows, N, K, alpha, A + rows * lda, lda, B, ldb, beta, C + rows * ldc, ldc, isa);
    return;
  }
#endif
  switch (kernel) {
#ifdef CTRNN_CPU_DISPATCH
    case GemmIsa::Avx512: return avx512::product(transpose_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case GemmIsa::Avx2: return avx2::product(transpose_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
    default: throw std::logic_error("small_sgemm: no kernel for this instruction set on this CPU");
  }
}

}  // namespace ctrnn::detail
