// The host's float exp, tanh and logistic function (kernels/float_math.hpp) against the exact
// values (double precision), on a sample of every 257th float bit pattern (17 million values:
// every exponent, both signs) plus the special values. (Every float was checked when the
// functions were written: the same bounds hold.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/float_math.hpp"

namespace {

using ctrnn::kernels::exp_f32;
using ctrnn::kernels::logistic_f32;
using ctrnn::kernels::tanh_f32;

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// |got - exact| in units of the last place of the exact value rounded to float (the smallest
// denormal's spacing below it).
double ulps(float got, double exact) {
  const float rounded = float(exact);
  if (std::isinf(rounded) || std::isinf(got)) return rounded == got ? 0.0 : 1e30;
  const double spacing = std::max(double(std::nextafter(std::fabs(rounded), INFINITY)) - std::fabs(double(rounded)),
                                  double(std::numeric_limits<float>::denorm_min()));
  return std::fabs(double(got) - exact) / spacing;
}

// Largest error over the sample and where.
template <class F, class Exact>
std::pair<double, float> worst(F f, Exact exact, float lo, float hi) {
  std::pair<double, float> w{0.0, 0.0f};
  for (uint64_t bits = 0; bits < (uint64_t(1) << 32); bits += 257) {
    const float x = from_bits(uint32_t(bits));
    if (std::isnan(x) || x < lo || x > hi) continue;
    const double u = ulps(f(x), exact(double(x)));
    if (u > w.first) w = {u, x};
  }
  return w;
}

// The bounds of float_math.hpp's header: 1 ulp for exp, 1.5 for tanh (1 - q loses up to half an
// ulp more just above the switch from the polynomial), 2.5 for the logistic function (two more
// roundings in 1 / (1 + e)). Below v = -88.72, e^-v overflows and the logistic function gives 0,
// as 1 / (1 + expf(-v)) does with libm (the exact value is below 3e-39 there).
TEST(FloatMath, ExpWithinOneUlp) {
  const auto [u, x] = worst(exp_f32, [](double y) { return std::exp(y); }, -200.0f, 88.7f);
  EXPECT_LE(u, 1.0) << "at x = " << x;
}

TEST(FloatMath, TanhWithinOneAndAHalfUlp) {
  const auto [u, x] = worst(tanh_f32, [](double y) { return std::tanh(y); }, -INFINITY, INFINITY);
  EXPECT_LE(u, 1.5) << "at x = " << x;
}

TEST(FloatMath, LogisticWithinTwoAndAHalfUlp) {
  const auto [u, x] = worst(logistic_f32, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, -88.72f, INFINITY);
  EXPECT_LE(u, 2.5) << "at x = " << x;
}

TEST(FloatMath, SpecialValues) {
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-INFINITY), 0.0f);
  EXPECT_EQ(exp_f32(INFINITY), INFINITY);
  EXPECT_EQ(exp_f32(89.0f), INFINITY);
  EXPECT_EQ(tanh_f32(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(tanh_f32(-0.0f)));
  EXPECT_EQ(tanh_f32(INFINITY), 1.0f);
  EXPECT_EQ(tanh_f32(9.1f), 1.0f);
  EXPECT_EQ(tanh_f32(-INFINITY), -1.0f);
  EXPECT_EQ(logistic_f32(0.0f), 0.5f);
  EXPECT_EQ(logistic_f32(INFINITY), 1.0f);
  EXPECT_EQ(logistic_f32(-INFINITY), 0.0f);
  EXPECT_EQ(logistic_f32(-89.0f), 0.0f);
  EXPECT_TRUE(std::isnan(tanh_f32(NAN)));
  EXPECT_TRUE(std::isnan(logistic_f32(NAN)));
}

}  // namespace
