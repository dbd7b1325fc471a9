// Batched standard normals (normal_fill.hpp). Compiled with -ffp-contract=off -fno-math-errno
// -fno-trapping-math (cmake/CtrnnHostCpu.cmake): every operation below rounds as written, the
// fused multiply-adds are the explicit __builtin_fma calls, sqrtf is the instruction (its
// argument is never negative) and selects need no branches, so the lane loops vectorize.
//
// The vector paths evaluate glibc's own algorithms (since glibc 2.28, from Arm's
// optimized-routines; the x86-64 build glibc picks on CPUs with FMA, whose compiler contracted
// a * b + c into one FMA wherever the source writes it): logf and sinf/cosf computed in double
// from a few constants, one rounding to float at the end. Written the same way, operation for
// operation, they give the same bits; the generator's inputs are 2^24 floats per function, all
// of which tests/test_normal_fill.cpp checks. At first use a sample of them is checked against
// this process's libm, and on any difference (another libm) the fill stays scalar.
#include "normal_fill.hpp"

#include <cmath>
#include <cstring>
#include <initializer_list>

#include "cpu_features.hpp"

// The vector paths need GCC's `#pragma GCC target` (clang spells it differently): cpu_features.hpp.
#ifdef CTRNN_CPU_DISPATCH
#include <immintrin.h>
#endif

namespace ctrnn::detail {
namespace {

constexpr int kLanes = 16;  // Philox blocks per chunk: 64 normals

inline uint32_t bits_of(float f) { return __builtin_bit_cast(uint32_t, f); }
inline float float_of(uint32_t u) { return __builtin_bit_cast(float, u); }

// One block's 4 normals with libm: the reference's arithmetic, each block, radius and angle once.
inline void scalar_block(const RandomStream& s, uint32_t b, float* out) {
  const PhiloxBlock blk = s.block(b);
  const float r0 = sqrtf(-2.0f * logf(RandomStream::to_open_uniform(blk.x[0])));
  const float r2 = sqrtf(-2.0f * logf(RandomStream::to_open_uniform(blk.x[2])));
  const float a1 = RandomStream::host_angle(blk.x[1]), a3 = RandomStream::host_angle(blk.x[3]);
  out[0] = r0 * cosf(a1), out[1] = r0 * sinf(a1);
  out[2] = r2 * cosf(a3), out[3] = r2 * sinf(a3);
}

void scalar_blocks(const RandomStream& s, uint32_t b0, float* out) {
  for (int l = 0; l < kLanes; ++l) scalar_block(s, b0 + uint32_t(l), out + 4 * l);
}

#ifdef CTRNN_CPU_DISPATCH

// logf: x = 2^k z with z in [0x3f330000, 2 * that) as bits (about [0.7, 1.4]); 16 subintervals of
// z, each with 1/c (c near its centre) and log(c); log x = log1p(z/c - 1) + log c + k ln 2, the
// log1p by a degree-4 polynomial. The constants (invc, logc, ln2, poly) are glibc's
// (sysdeps/ieee754/flt-32/e_logf_data.c).
constexpr double kLogInvC[16] = {
    0x1.661ec79f8f3bep+0, 0x1.571ed4aaf883dp+0, 0x1.49539f0f010bp+0,  0x1.3c995b0b80385p+0,
    0x1.30d190c8864a5p+0, 0x1.25e227b0b8eap+0,  0x1.1bb4a4a1a343fp+0, 0x1.12358f08ae5bap+0,
    0x1.0953f419900a7p+0, 0x1p+0,               0x1.e608cfd9a47acp-1, 0x1.ca4b31f026aap-1,
    0x1.b2036576afce6p-1, 0x1.9c2d163a1aa2dp-1, 0x1.886e6037841edp-1, 0x1.767dcf5534862p-1};
constexpr double kLogLogC[16] = {
    -0x1.57bf7808caadep-2, -0x1.2bef0a7c06ddbp-2, -0x1.01eae7f513a67p-2, -0x1.b31d8a68224e9p-3,
    -0x1.6574f0ac07758p-3, -0x1.1aa2bc79c81p-3,   -0x1.a4e76ce8c0e5ep-4, -0x1.1973c5a611cccp-4,
    -0x1.252f438e10c1ep-5, 0x0p+0,                0x1.aa5aa5df25984p-5,  0x1.c5e53aa362eb4p-4,
    0x1.526e57720db08p-3,  0x1.bc2860d22477p-3,   0x1.1058bc8a07ee1p-2,  0x1.4043057b6ee09p-2};
constexpr double kLn2 = 0x1.62e42fefa39efp-1;
constexpr double kLogA0 = -0x1.00ea348b88334p-2, kLogA1 = 0x1.5575b0be00b6ap-2, kLogA2 = -0x1.ffffef20a4123p-2;

// sinf/cosf for |y| < 120: n = the nearest multiple of pi/2 (from y 2/pi scaled by 2^24, as glibc
// rounds it), x = y - n pi/2 in [-pi/4, pi/4], then by the quadrant n mod 4 the sine polynomial
// x + x^3 S(x^2) or the cosine polynomial C(x^2), and the sign. Below |y| = 2^-12 (by the top 12
// bits of y): sin y = y, cos y = 1. Constants: glibc's sysdeps/ieee754/flt-32/s_sincosf_data.c.
constexpr double kHalfPiInv24 = 0x1.45F306DC9C883p+23, kHalfPi = 0x1.921FB54442D18p0;
constexpr double kCos0 = 0x1p0, kCos1 = -0x1.ffffffd0c621cp-2, kCos2 = 0x1.55553e1068f19p-5,
                 kCos3 = -0x1.6c087e89a359dp-10, kCos4 = 0x1.99343027bf8c3p-16;
constexpr double kSin1 = -0x1.555545995a603p-3, kSin2 = 0x1.1107605230bc4p-7, kSin3 = -0x1.994eb3774cf24p-13;
constexpr uint32_t kTinyTop12 = 0x398;  // abstop12(0x1p-12f)

// The vector paths (normal_fill_lanes.inc) per instruction set. The headers they use are
// included above, outside the target regions, so no inline function of theirs is compiled for
// an instruction set the CPU may lack.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
struct Ops {
  using V = __m256i;
  static constexpr int kWidth = 8;
  static V splat(uint32_t x) { return _mm256_set1_epi32(int(x)); }
  static V iota(uint32_t x) { return _mm256_add_epi32(splat(x), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  // The 64-bit products a m per 32-bit lane, as their low and high halves: vpmuludq multiplies
  // the even lanes, so once for those and once for the odd ones shifted down, then blended.
  static void mul_wide(V a, V m, V& lo, V& hi) {
    const V even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  }
  static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static void store(uint32_t* p, V a) { _mm256_storeu_si256(reinterpret_cast<V*>(p), a); }
};
#include "normal_fill_lanes.inc"
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")
// GCC 12 warns inside its own avx512fintrin.h (the shifts' undefined pass-through operand, GCC
// bug 105593); nothing of ours is uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace avx512 {
struct Ops {
  using V = __m512i;
  static constexpr int kWidth = 16;
  static V splat(uint32_t x) { return _mm512_set1_epi32(int(x)); }
  static V iota(uint32_t x) {
    return _mm512_add_epi32(splat(x), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  static void mul_wide(V a, V m, V& lo, V& hi) {  // as avx2::Ops::mul_wide
    const V even = _mm512_mul_epu32(a, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
  }
  static V xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }  // a ^ b ^ c
  static void store(uint32_t* p, V a) { _mm512_storeu_si512(p, a); }
};
#include "normal_fill_lanes.inc"
}  // namespace avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

using BlocksFn = void (*)(const RandomStream&, uint32_t, float*);
using LogFn = void (*)(const float*, float*);
using SinCosFn = void (*)(const float*, float*, float*);

void log_scalar(const float* x, float* out) {
  for (int l = 0; l < kLanes; ++l) out[l] = logf(x[l]);
}
void sincos_scalar(const float* a, float* s, float* c) {
  for (int l = 0; l < kLanes; ++l) s[l] = sinf(a[l]), c[l] = cosf(a[l]);
}

struct Kernels {
  BlocksFn blocks;
  LogFn log;
  SinCosFn sincos;
};

Kernels kernels_of(NormalIsa isa) {
#ifdef CTRNN_CPU_DISPATCH
  if (isa == NormalIsa::Avx512) return {avx512::blocks, avx512::log16, avx512::sincos16};
  if (isa == NormalIsa::Avx2) return {avx2::blocks, avx2::log16, avx2::sincos16};
#endif
  (void)isa;
  return {scalar_blocks, log_scalar, sincos_scalar};
}

bool cpu_has(NormalIsa isa) {
  if (isa == NormalIsa::Avx2) return cpu_has_avx2_fma();
  if (isa == NormalIsa::Avx512) return cpu_has_avx512_fdqvlbw();
  return isa == NormalIsa::Scalar;
}

// Whether `isa`'s log and sine/cosine give this process's libm results on a sample of the
// generator's inputs (every 509th of the 2^24): they are glibc's algorithms, so on another libm
// the fill stays scalar rather than drawing other noise than RandomStream::normal.
bool agrees_with_libm(NormalIsa isa) {
  const Kernels k = kernels_of(isa);
  float in[kLanes], log_out[kLanes], s[kLanes], c[kLanes];
  for (uint32_t m = 0; m < (1u << 24); m += 509 * kLanes) {
    for (int l = 0; l < kLanes; ++l) in[l] = RandomStream::to_open_uniform((m + 509u * uint32_t(l)) << 8);
    k.log(in, log_out);
    for (int l = 0; l < kLanes; ++l)
      if (bits_of(log_out[l]) != bits_of(logf(in[l]))) return false;
    for (int l = 0; l < kLanes; ++l) in[l] = RandomStream::host_angle((m + 509u * uint32_t(l)) << 8);
    k.sincos(in, s, c);
    for (int l = 0; l < kLanes; ++l)
      if (bits_of(s[l]) != bits_of(sinf(in[l])) || bits_of(c[l]) != bits_of(cosf(in[l]))) return false;
  }
  return true;
}

NormalIsa best_isa() {
  static const NormalIsa best = [] {
    for (NormalIsa isa : {NormalIsa::Avx512, NormalIsa::Avx2})
      if (cpu_has(isa) && agrees_with_libm(isa)) return isa;
    return NormalIsa::Scalar;
  }();
  return best;
}

NormalIsa resolve(NormalIsa isa) { return isa == NormalIsa::Best ? best_isa() : isa; }

}  // namespace

bool normal_isa_available(NormalIsa isa) { return isa == NormalIsa::Best || cpu_has(isa); }

void fill_normals(const RandomStream& s, uint32_t first, int64_t count, float* out, NormalIsa isa) {
  const BlocksFn blocks = kernels_of(resolve(isa)).blocks;
  float chunk[4 * kLanes];
  for (int64_t k = 0; k < count;) {
    const uint64_t i = uint64_t(first) + uint64_t(k);  // the element out[k] holds
    const uint32_t b0 = uint32_t(i / 4);
    const int64_t offset = int64_t(i % 4), left = count - k;
    if (offset == 0 && left >= 4 * kLanes) {
      blocks(s, b0, out + k);
      k += 4 * kLanes;
      continue;
    }
    blocks(s, b0, chunk);
    const int64_t n = left < 4 * kLanes - offset ? left : 4 * kLanes - offset;
    std::memcpy(out + k, chunk + offset, size_t(n) * sizeof(float));
    k += n;
  }
}

void log_lanes(const float* x, int64_t n, float* out, NormalIsa isa) {
  const LogFn f = kernels_of(resolve(isa)).log;
  float in[kLanes], res[kLanes];
  for (int64_t k = 0; k < n; k += kLanes) {
    const int64_t m = n - k < kLanes ? n - k : kLanes;
    for (int l = 0; l < kLanes; ++l) in[l] = l < m ? x[k + l] : 1.0f;
    f(in, res);
    std::memcpy(out + k, res, size_t(m) * sizeof(float));
  }
}

void sincos_lanes(const float* a, int64_t n, float* sin_out, float* cos_out, NormalIsa isa) {
  const SinCosFn f = kernels_of(resolve(isa)).sincos;
  float in[kLanes], s[kLanes], c[kLanes];
  for (int64_t k = 0; k < n; k += kLanes) {
    const int64_t m = n - k < kLanes ? n - k : kLanes;
    for (int l = 0; l < kLanes; ++l) in[l] = l < m ? a[k + l] : 0.0f;
    f(in, s, c);
    std::memcpy(sin_out + k, s, size_t(m) * sizeof(float));
    std::memcpy(cos_out + k, c, size_t(m) * sizeof(float));
  }
}

}  // namespace ctrnn::detail
