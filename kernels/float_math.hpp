#pragma once
// exp, tanh and the logistic function in float for the host's per-element loops: straight-line
// code (no libm call, no branch, no table) that the compiler vectorizes, so the fused neuron loops
// of tanh and sigmoid networks run 16 (AVX-512) or 4 (SSE2) neurons per instruction rather than
// one libm call each. Only +, -, *, / and selects, each rounded as written (the fused loops are
// compiled with -ffp-contract=off): a vectorized loop and its scalar remainder give the same
// bits, so results do not depend on where a loop was split (threads, vector width).
// Accuracy (test_float_math checks it on a sample of every exponent): tanh_f32 within 1.06 ulp of
// the exact value over every float (checked exhaustively when written), exp_f32 within 1 ulp,
// logistic_f32 within 2.5 (above v = -88.72; below, 0 as with libm's expf): the float32 ~1e-7
// relative that every tolerance assumes. Where a loop vectorizes, the vector lanes and the scalar
// remainder gave the same bits for every float (checked with the same compiler flags).
#include <cstdint>
#include <cstring>

namespace ctrnn::kernels {

namespace float_math_detail {
inline float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
}  // namespace float_math_detail

// e^y: y = k ln 2 + r with |r| <= ln(2)/2 (ln 2 split in two, its high part exact in k ln 2 for
// |k| < 2^11), e^r by Cephes's degree-7 polynomial, 2^k as two factors so that results in the
// denormal range (k < -126) come out right. Overflows to inf above 88.72 as expf does.
inline float exp_f32(float y) {
  using namespace float_math_detail;
  y = y < -104.0f ? -104.0f : y;  // e^-104 rounds to 0
  y = y > 89.0f ? 89.0f : y;      // e^89 overflows to inf
  const float shift = 12582912.0f;  // 1.5 * 2^23: y log2(e) + shift is rounded to an integer
  const float t = y * 1.44269504088896341f + shift;
  const int32_t k = int32_t(to_bits(t) - to_bits(shift));
  const float kf = t - shift;
  const float r = (y - kf * 0.693145751953125f) - kf * 1.428606765330187045e-6f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t k1 = k / 2, k2 = k - k1;
  return p * from_bits(uint32_t(k1 + 127) << 23) * from_bits(uint32_t(k2 + 127) << 23);
}

// tanh x: for |x| < 0.75, x + x^3 P(x^2) (P of degree 5, fitted for the relative error: no
// cancellation there); above, 1 - 2 / (e^{2|x|} + 1), with |x| capped at 10 (tanh is 1 in float
// from 9.01 on); then the sign bit of x (tanh(-0) = -0). NaN gives NaN.
inline float tanh_f32(float x) {
  using namespace float_math_detail;
  const float a = from_bits(to_bits(x) & 0x7fffffffu);
  const float z = a * a;
  float p = 0.001742531661875546f;
  p = p * z + -0.007667080499231815f;
  p = p * z + 0.021458540111780167f;
  p = p * z + -0.05389471724629402f;
  p = p * z + 0.13332721590995789f;
  p = p * z + -0.33333316445350647f;
  const float small = a + (a * z) * p;
  const float capped = a > 10.0f ? 10.0f : a;  // NaN stays NaN
  const float large = 1.0f - 2.0f / (exp_f32(2.0f * capped) + 1.0f);
  const float t = a < 0.75f ? small : large;  // >= 0, or NaN
  return from_bits(to_bits(t) | (to_bits(x) & 0x80000000u));
}

// 1 / (1 + e^-v)
inline float logistic_f32(float v) { return 1.0f / (1.0f + exp_f32(-v)); }

}  // namespace ctrnn::kernels
