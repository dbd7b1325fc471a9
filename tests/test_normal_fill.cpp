// The batched normals (host/normal_fill.hpp) against RandomStream::normal, bit for bit, on every
// instruction set this CPU has; and their log, sine and cosine against libm's logf, sinf and cosf
// on every input the generator can give them: the log sees to_open_uniform(x) and the sine and
// cosine host_angle(x), each one of 2^24 floats (the top 24 bits of x), so all of them are checked.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "normal_fill.hpp"

namespace ctrnn::detail {
namespace {

constexpr NormalIsa kIsas[] = {NormalIsa::Scalar, NormalIsa::Avx2, NormalIsa::Avx512, NormalIsa::Best};
const char* name(NormalIsa isa) {
  switch (isa) {
    case NormalIsa::Scalar: return "scalar";
    case NormalIsa::Avx2: return "avx2";
    case NormalIsa::Avx512: return "avx512";
    case NormalIsa::Best: return "best";
  }
  return "?";
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Inputs m = 0 .. 2^24 - 1 as the generator forms them (the 24 bits in the top of the word).
std::vector<float> every_input(float (*form)(uint32_t)) {
  std::vector<float> x(size_t(1) << 24);
  for (uint32_t m = 0; m < (1u << 24); ++m) x[m] = form(m << 8);
  return x;
}

TEST(NormalFill, LogEqualsLibmOnEveryInput) {
  const std::vector<float> x = every_input(RandomStream::to_open_uniform);
  std::vector<float> want(x.size()), got(x.size());
  for (size_t m = 0; m < x.size(); ++m) want[m] = logf(x[m]);
  for (NormalIsa isa : kIsas) {
    if (!normal_isa_available(isa)) continue;
    log_lanes(x.data(), int64_t(x.size()), got.data(), isa);
    size_t bad = 0, first = 0;
    for (size_t m = 0; m < x.size(); ++m)
      if (bits(got[m]) != bits(want[m]) && bad++ == 0) first = m;
    EXPECT_EQ(bad, 0u) << name(isa) << ": first at x = " << x[first] << ": " << got[first] << " vs logf "
                       << want[first];
  }
}

TEST(NormalFill, SinCosEqualLibmOnEveryInput) {
  const std::vector<float> a = every_input(RandomStream::host_angle);
  std::vector<float> want_s(a.size()), want_c(a.size()), s(a.size()), c(a.size());
  for (size_t m = 0; m < a.size(); ++m) want_s[m] = sinf(a[m]), want_c[m] = cosf(a[m]);
  for (NormalIsa isa : kIsas) {
    if (!normal_isa_available(isa)) continue;
    sincos_lanes(a.data(), int64_t(a.size()), s.data(), c.data(), isa);
    size_t bad_s = 0, bad_c = 0, first_s = 0, first_c = 0;
    for (size_t m = 0; m < a.size(); ++m) {
      if (bits(s[m]) != bits(want_s[m]) && bad_s++ == 0) first_s = m;
      if (bits(c[m]) != bits(want_c[m]) && bad_c++ == 0) first_c = m;
    }
    EXPECT_EQ(bad_s, 0u) << name(isa) << ": first at " << a[first_s] << ": " << s[first_s] << " vs sinf "
                         << want_s[first_s];
    EXPECT_EQ(bad_c, 0u) << name(isa) << ": first at " << a[first_c] << ": " << c[first_c] << " vs cosf "
                         << want_c[first_c];
  }
}

// Offsets not multiples of 4, counts shorter than a block, than a chunk (64), ragged ends, and
// streams that differ in every address word, including the last elements below 2^32.
TEST(NormalFill, EqualsNormalForEveryOffsetAndCount) {
  const RandomStream streams[] = {
      RandomStream(42, RandomPurpose::PreactNoise, 0, 0, 0),
      RandomStream(0x123456789abcdefull, RandomPurpose::PostactNoise, 77, 99, 3),
      RandomStream(~0ull, RandomPurpose::AnalysisSamples, 0xFFFFFF, ~0u, ~0u),
  };
  const uint32_t firsts[] = {0, 1, 2, 3, 4, 5, 63, 64, 65, 127, 1000, 4096 + 2, 0xFFFFFFFFu - 300};
  const int64_t counts[] = {0, 1, 2, 3, 4, 5, 63, 64, 65, 100, 128, 129, 256, 300};
  for (NormalIsa isa : kIsas) {
    if (!normal_isa_available(isa)) continue;
    for (const RandomStream& s : streams)
      for (uint32_t first : firsts)
        for (int64_t count : counts) {
          std::vector<float> got(size_t(count) + 1, -7.0f);  // one past the end: must stay untouched
          fill_normals(s, first, count, got.data(), isa);
          for (int64_t k = 0; k < count; ++k)
            ASSERT_EQ(bits(got[size_t(k)]), bits(s.normal(first + uint32_t(k))))
                << name(isa) << " first " << first << " count " << count << " k " << k;
          ASSERT_EQ(got[size_t(count)], -7.0f) << name(isa) << " wrote past the end";
        }
  }
}

// Many rows, as the forward step draws them: (step, network, call) varied, H = 64.
TEST(NormalFill, EqualsNormalOverManyStreams) {
  std::vector<float> got(64 * 32);
  for (NormalIsa isa : kIsas) {
    if (!normal_isa_available(isa)) continue;
    for (uint32_t step = 0; step < 40; ++step) {
      const RandomStream s(2024 + step, RandomPurpose::PreactNoise, step % 7, step, step / 3);
      fill_normals(s, 0, int64_t(got.size()), got.data(), isa);
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(bits(got[i]), bits(s.normal(uint32_t(i)))) << name(isa) << " step " << step << " i " << i;
    }
  }
}

}  // namespace
}  // namespace ctrnn::detail
