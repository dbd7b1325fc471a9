#pragma once
// Shared helpers for the tests: random data and the one tensor comparison.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ctrnn/error.hpp"

namespace ctrnn::test {

// Uniform values in [lo, hi), reproducible from `seed`. Never all zero.
template <class T>
std::vector<T> random_vector(size_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = T(dist(gen));
  return v;
}

// Passes when |actual - expected| <= atol + rtol |expected| everywhere; otherwise reports the
// worst element, its index and the number of mismatches.
template <class A, class B>
::testing::AssertionResult all_close(const std::vector<A>& actual, const std::vector<B>& expected, double atol,
                                     double rtol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "size " << actual.size() << " != " << expected.size();
  size_t bad = 0, worst = 0;
  double worst_excess = -1;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = double(actual[i]), e = double(expected[i]);
    const double excess = std::abs(a - e) - (atol + rtol * std::abs(e));
    if (excess > 0 || std::isnan(a) != std::isnan(e)) ++bad;
    if (excess > worst_excess || std::isnan(a)) worst_excess = excess, worst = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream s;
  s.precision(10);
  s << bad << " of " << actual.size() << " elements differ; worst at " << worst << ": " << double(actual[worst])
    << " vs " << double(expected[worst]) << " (atol " << atol << ", rtol " << rtol << ")";
  return ::testing::AssertionFailure() << s.str();
}

// Runs f and expects InvalidArgument whose parameter() and message name `parameter`.
template <class F>
void expect_refused(F&& f, const std::string& parameter) {
  try {
    f();
    ADD_FAILURE() << "accepted; expected an error naming " << parameter;
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.parameter(), parameter) << e.what();
    EXPECT_NE(std::string(e.what()).find(parameter), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
  }
}

// A fresh folder for the running test, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir()
      : path(std::filesystem::temp_directory_path() /
             ("ctrnn_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return file(name);
  }
};

}  // namespace ctrnn::test
