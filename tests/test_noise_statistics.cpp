// The noise of training mode against the closed form of docs/contract.md's update. With zero
// weights, no biases, zero inputs and v_0 = 0:
//   v_t = (1 - alpha) v_{t-1} + alpha sigma_pre eps_t   =>   v_t ~ N(0, s_t^2),
//   s_t^2 = alpha^2 sigma_pre^2 sum_{k<t} (1 - alpha)^{2k} = alpha^2 sigma_pre^2 (1 - q^t) / (1 - q),  q = (1 - alpha)^2
//   r_t = f(v_t) + sigma_post xi_t.
// With f = relu: E[relu(v)] = s / sqrt(2 pi), E[relu(v)^2] = s^2 / 2, E[relu(v)^4] = 3 s^4 / 2; the
// post-activation noise adds sigma_post^2 to the variance. Samples at one step t over (network,
// batch row, neuron) are independent (SPEC: noise is drawn independently per network, step, row
// and neuron), so each sample mean has a standard error sqrt(Var / N).
//
// Bounds: 5 standard errors. A correct implementation fails one check with probability 6e-7, so
// the ~60 checks below together with probability < 4e-5; the seed is fixed, so the outcome is
// deterministic anyway. An error in a scale (alpha missing or applied twice on the noise, sigma
// squared, a missing leak) moves a moment by far more than 5 standard errors (see the sizes: N is
// about 1.3e5, so 5 standard errors are about 1.4% of the variance).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ctrnn/network.hpp"

namespace ctrnn {
namespace {

constexpr double kStandardErrors = 5;
constexpr int64_t kE = 4, kT = 50, kB = 2048, kH = 16;  // N = E B H = 131072 samples per step

Config zero_network(double sigma_pre, double sigma_post, Activation activation) {
  Config c;
  c.dims = {1, kH, 1};
  c.ensemble_size = kE;
  c.seed = 2024;
  c.activation = activation;
  c.weights = all_layers(InitSpec::zero());
  c.biases = all_layers(InitSpec::none());
  c.preact_noise = sigma_pre;
  c.postact_noise = sigma_post;
  return c;  // tau 100, dt 10: alpha 0.1
}

// r (E, T, B, H) of one forward in training mode on zero inputs.
std::vector<float> run(const Config& c) {
  Network net(c);
  EXPECT_EQ(net.mode(), Mode::Train);
  return net.forward(Tensor<float>({kT, kB, 1}, 0.0f)).r.data;
}

// The samples of step t (1-based) over all networks, rows and neurons.
std::vector<double> at_step(const std::vector<float>& r, int64_t t) {
  std::vector<double> x;
  x.reserve(kE * kB * kH);
  for (int64_t e = 0; e < kE; ++e) {
    const float* p = &r[((e * kT + (t - 1)) * kB) * kH];
    x.insert(x.end(), p, p + kB * kH);
  }
  return x;
}

double mean(const std::vector<double>& x, int power = 1) {
  double s = 0;
  for (double a : x) s += std::pow(a, power);
  return s / double(x.size());
}

double preact_variance(double alpha, double sigma, int64_t t) {
  const double q = (1 - alpha) * (1 - alpha);
  return alpha * alpha * sigma * sigma * (1 - std::pow(q, double(t))) / (1 - q);
}

const int64_t kSteps[] = {1, 2, 5, 20, 50};

// Post-activation noise only (tanh(0) = 0): r_t = sigma_post xi_t, mean 0, variance sigma_post^2,
// Var(r^2) = 2 sigma_post^4.
TEST(NoiseStatistics, PostactivationNoiseIsNormalWithItsSigma) {
  const double sigma = 0.7;
  const auto r = run(zero_network(0, sigma, Activation::Tanh));
  for (int64_t t : kSteps) {
    const auto x = at_step(r, t);
    const double n = double(x.size()), var = sigma * sigma;
    EXPECT_NEAR(mean(x), 0, kStandardErrors * std::sqrt(var / n)) << "t " << t;
    EXPECT_NEAR(mean(x, 2), var, kStandardErrors * std::sqrt(2 * var * var / n)) << "t " << t;
    // kurtosis 3: E[x^4] = 3 sigma^4, Var(x^4) = (105 - 9) sigma^8
    EXPECT_NEAR(mean(x, 4), 3 * var * var, kStandardErrors * std::sqrt(96 * std::pow(var, 4) / n)) << "t " << t;
  }
}

// Independence: successive steps, and networks of the ensemble, are uncorrelated (the correlation
// of two independent unit normals over N pairs has standard error 1/sqrt(N)).
TEST(NoiseStatistics, PostactivationNoiseIsIndependentAcrossStepsAndNetworks) {
  const double sigma = 1.0;
  const auto r = run(zero_network(0, sigma, Activation::Tanh));
  const int64_t n = kB * kH;
  for (int64_t t = 0; t + 1 < kT; t += 7) {
    double across_steps = 0, across_networks = 0;
    for (int64_t i = 0; i < n; ++i) {
      across_steps += double(r[t * n + i]) * r[(t + 1) * n + i];                 // network 0, steps t, t+1
      across_networks += double(r[t * n + i]) * r[(1 * kT + t) * n + i];         // networks 0 and 1, step t
    }
    EXPECT_NEAR(across_steps / double(n), 0, kStandardErrors / std::sqrt(double(n))) << "t " << t;
    EXPECT_NEAR(across_networks / double(n), 0, kStandardErrors / std::sqrt(double(n))) << "t " << t;
  }
}

// Pre-activation noise only, through relu: the leak accumulates alpha sigma_pre eps into v.
TEST(NoiseStatistics, PreactivationNoiseAccumulatesThroughTheLeak) {
  const double sigma = 2.0, alpha = 0.1;
  const auto r = run(zero_network(sigma, 0, Activation::ReLU));
  for (int64_t t : kSteps) {
    const auto x = at_step(r, t);
    const double n = double(x.size()), s2 = preact_variance(alpha, sigma, t), s = std::sqrt(s2);
    const double m1 = s / std::sqrt(2 * M_PI), m2 = s2 / 2, m4 = 1.5 * s2 * s2;
    EXPECT_NEAR(mean(x), m1, kStandardErrors * std::sqrt((m2 - m1 * m1) / n)) << "t " << t;
    EXPECT_NEAR(mean(x, 2), m2, kStandardErrors * std::sqrt((m4 - m2 * m2) / n)) << "t " << t;
  }
  // The closed form grows with t (0.2 at t = 1, 0.46 at t = 50): a missing leak or a noise without
  // alpha would not fit both ends.
  EXPECT_LT(preact_variance(alpha, sigma, 1) * 4, preact_variance(alpha, sigma, 50));
}

// Both: r_t = relu(v_t) + sigma_post xi_t with independent xi: mean as relu's, variance adds.
TEST(NoiseStatistics, BothNoisesAdd) {
  const double sigma_pre = 1.5, sigma_post = 0.3, alpha = 0.1;
  const auto r = run(zero_network(sigma_pre, sigma_post, Activation::ReLU));
  for (int64_t t : kSteps) {
    const auto x = at_step(r, t);
    const double n = double(x.size()), s2 = preact_variance(alpha, sigma_pre, t), s = std::sqrt(s2);
    const double p2 = sigma_post * sigma_post;
    const double m1 = s / std::sqrt(2 * M_PI);
    const double m2 = s2 / 2 + p2;  // E[(relu + p xi)^2] = E relu^2 + p^2
    // E[(relu + p xi)^4] = E relu^4 + 6 p^2 E relu^2 + 3 p^4
    const double m4 = 1.5 * s2 * s2 + 6 * p2 * (s2 / 2) + 3 * p2 * p2;
    EXPECT_NEAR(mean(x), m1, kStandardErrors * std::sqrt((m2 - m1 * m1) / n)) << "t " << t;
    EXPECT_NEAR(mean(x, 2), m2, kStandardErrors * std::sqrt((m4 - m2 * m2) / n)) << "t " << t;
  }
}

}  // namespace
}  // namespace ctrnn
