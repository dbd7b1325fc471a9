// The counter-based generator behind every random draw: known-answer vectors and the statistics
// of the normal draws.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/philox.hpp"

namespace ctrnn {
namespace {

// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
TEST(Philox, KnownAnswerZero) {
  const PhiloxBlock b = philox4x32_10(0, 0, 0, 0, 0, 0);
  EXPECT_EQ(b.x[0], 0x6627e8d5u);
  EXPECT_EQ(b.x[1], 0xe169c58du);
  EXPECT_EQ(b.x[2], 0xbc57ac4cu);
  EXPECT_EQ(b.x[3], 0x9b00dbd8u);
}

TEST(Philox, KnownAnswerOnes) {
  const PhiloxBlock b = philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  EXPECT_EQ(b.x[0], 0x408f276du);
  EXPECT_EQ(b.x[1], 0x41c83b0eu);
  EXPECT_EQ(b.x[2], 0xa20bc7c6u);
  EXPECT_EQ(b.x[3], 0x6d5451fdu);
}

TEST(Philox, KnownAnswerPi) {
  const PhiloxBlock b = philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(b.x[0], 0xd16cfe09u);
  EXPECT_EQ(b.x[1], 0x94fdccebu);
  EXPECT_EQ(b.x[2], 0x5001e420u);
  EXPECT_EQ(b.x[3], 0x24126ea1u);
}

TEST(RandomStream, NormalMomentsAndIndependence) {
  const RandomStream a(42, RandomPurpose::PreactNoise, 0, 0, 0);
  const RandomStream b(42, RandomPurpose::PreactNoise, 1, 0, 0);  // another network
  const int n = 200000;
  double sum = 0, sq = 0, cross = 0, lag = 0;
  float prev = a.normal(0);
  for (int i = 0; i < n; ++i) {
    const double x = a.normal(uint32_t(i)), y = b.normal(uint32_t(i));
    sum += x, sq += x * x, cross += x * y;
    if (i > 0) lag += x * prev;
    prev = float(x);
  }
  // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032, correlations
  // 1/sqrt(n); 5 standard errors leave a false-failure chance below 1e-6.
  const double se = 1 / std::sqrt(double(n));
  EXPECT_NEAR(sum / n, 0.0, 5 * se);
  EXPECT_NEAR(sq / n, 1.0, 5 * std::sqrt(2.0) * se);
  EXPECT_NEAR(cross / n, 0.0, 5 * se);
  EXPECT_NEAR(lag / (n - 1), 0.0, 5 * se);
}

TEST(RandomStream, UniformRange) {
  const RandomStream s(7, RandomPurpose::Weight, 3, 1);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const float u = s.uniform(uint32_t(i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));  // 5 standard errors
}

}  // namespace
}  // namespace ctrnn
