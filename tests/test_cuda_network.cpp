// GPU test: networks on Device::Cuda against the same networks on Device::Cpu (initial weights
// are drawn on the host, so both start equal), TF32 opt-in, Device::Auto, and the statistics of
// the noise drawn on the GPU. Skips without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

class CudaNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

// As test::kGpuTolerances (test_host_backend_compare.hpp; checked on an H200, 2026-12-04).
constexpr double kForwardRel = 1e-4, kGradientRel = 5e-4;

Config network_config(Activation a, int64_t E, uint64_t seed) {
  test::BackendCase c;
  c.activation = a, c.E = E, c.H = 64, c.I = 3, c.O = 2, c.masks = true, c.noise = true, c.biases = true, c.seed = seed;
  return test::make_problem(c).config;
}

void expect_same_forward(Network& gpu, BasicNetwork<float>& cpu, const Tensor<float>& u, const std::string& what) {
  const auto a = gpu.forward(u), b = cpu.forward(u);
  EXPECT_EQ(a.y.shape, b.y.shape);
  EXPECT_TRUE(test::close_to(a.y.data, b.y.data, kForwardRel)) << what << ": y";
  EXPECT_TRUE(test::close_to(a.r.data, b.r.data, kForwardRel)) << what << ": r";
}

TEST_F(CudaNetwork, ForwardAndBackwardEqualTheCpuNetwork) {
  for (Activation a : {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh}) {
    const Config cfg = network_config(a, 8, 40 + int(a));
    Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
    EXPECT_EQ(gpu.device(), Device::Cuda);
    EXPECT_NE(gpu.device_description().find("cuda"), std::string::npos) << gpu.device_description();
    const int64_t E = 8, T = 30, B = 5;
    // Shared and per-network inputs, in training mode (noise) and in eval mode
    const Tensor<float> u({T, B, 3}, test::random_vector<float>(T * B * 3, 1));
    const Tensor<float> uE({E, T, B, 3}, test::random_vector<float>(E * T * B * 3, 2));
    expect_same_forward(gpu, cpu, u, to_string(a) + " train, shared u");
    expect_same_forward(gpu, cpu, uE, to_string(a) + " train, per-network u");
    // Backward of the last forward, with a direct dL/dr
    const Tensor<float> dy({E, T, B, 2}, test::random_vector<float>(E * T * B * 2, 3));
    const Tensor<float> dr({E, T, B, 64}, test::random_vector<float>(E * T * B * 64, 4, -0.1, 0.1));
    const auto ga = gpu.backward(dy, &dr), gb = cpu.backward(dy, &dr);
    test::expect_params_close(ga, gb, kGradientRel, to_string(a) + " gradients");
    gpu.eval(), cpu.eval();
    expect_same_forward(gpu, cpu, u, to_string(a) + " eval");
    // A user write goes to the device and is projected there as on the CPU
    const Tensor<float> w({64, 64}, test::random_vector<float>(64 * 64, 5, -0.2, 0.2));
    gpu.set_weight(Layer::Hidden, w), cpu.set_weight(Layer::Hidden, w);
    EXPECT_EQ(gpu.params().w_hid, cpu.params().w_hid);
    expect_same_forward(gpu, cpu, u, to_string(a) + " after set_weight");
  }
}

// Training through the Trainer (loss with a mask and regularizers, BPTT, clipping, optimizer,
// projection, growth) on Device::Cuda and Device::Cpu: the same losses, norms, weights and grown
// masks after each of five steps. Parameters to 2e-4 of their scale (see kGpuTolerances). Under
// Adam, a gradient entry that cancels to within rounding of 0 at the first step can get opposite
// signs (an update of +-lr): a failure showing one or two weights exactly 2 lr apart is that, not a
// bug; SGD has no such step.
TEST_F(CudaNetwork, TrainingStepsEqualTheCpuNetwork) {
  for (OptimizerConfig::Kind kind : {OptimizerConfig::Kind::SGD, OptimizerConfig::Kind::Adam}) {
    const Config cfg = network_config(Activation::Tanh, 4, 90);
    Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
    OptimizerConfig opt;
    opt.kind = kind;
    opt.lr = 1e-2;
    opt.momentum = 0.9;
    opt.clip_grad_norm = 1.0;
    LossWeights w;
    w[kLossHid] = 0.01, w[kLossFr] = 0.1, w[kLossFrCv] = 0.05;
    Trainer tg(gpu, opt, w), tc(cpu, opt, w);
    const int64_t T = 20, B = 8;
    for (int s = 0; s < 5; ++s) {
      const Tensor<float> u({T, B, 3}, test::random_vector<float>(T * B * 3, 100 + s));
      const Tensor<float> target({T, B, 2}, test::random_vector<float>(T * B * 2, 200 + s));
      Tensor<float> mask({T, B}, test::random_vector<float>(T * B, 300 + s, 0, 1));
      const auto a = tg.step(u, target, &mask), b = tc.step(u, target, &mask);
      const std::string what = to_string(kind) + " step " + std::to_string(s);
      EXPECT_TRUE(test::close_to(a.total, b.total, kGradientRel)) << what << ": loss";
      EXPECT_TRUE(test::close_to(a.grad_norm, b.grad_norm, kGradientRel)) << what << ": gradient norms";
    }
    test::expect_params_close(gpu.params(), cpu.params(), 2e-4, to_string(kind) + " params after 5 steps");
    for (int l = 0; l < 3; ++l)
      EXPECT_EQ(gpu.constraints()[l].sparsity, cpu.constraints()[l].sparsity) << "grown mask of layer " << l;
  }
}

// The GPU twins of two CPU-only bitwise tests (test_trainer.cpp, test_network.cpp): network 0
// of an ensemble trains as a lone network, and two halves of a keep-mode sequence equal the
// whole. cuBLAS picks kernels (split-K included) by shape, so a batch of 3 networks or T B rows of
// another count sum in other orders: to kForwardRel / kGradientRel, as GPU against CPU.
TEST_F(CudaNetwork, EnsembleMemberTrainsAsALoneNetwork) {
  Config one;
  one.dims = {3, 64, 2};
  one.activation = Activation::Tanh;
  one.preact_noise = 0.1;
  one.seed = 60;
  Config three = one;
  three.ensemble_size = 3;
  Network a(one, Device::Cuda), b(three, Device::Cuda);
  OptimizerConfig opt;
  Trainer ta(a, opt), tb(b, opt);
  for (int s = 0; s < 3; ++s) {
    const Tensor<float> u({20, 4, 3}, test::random_vector<float>(240, 70 + s));
    const Tensor<float> t({20, 4, 2}, test::random_vector<float>(160, 80 + s));
    const auto ra = ta.step(u, t), rb = tb.step(u, t);
    EXPECT_TRUE(test::close_to(std::vector<double>{ra.total[0]}, std::vector<double>{rb.total[0]}, kGradientRel));
  }
  const auto& wa = a.params().w_hid;
  const std::vector<float> wb(b.params().w_hid.begin(), b.params().w_hid.begin() + wa.size());
  EXPECT_TRUE(test::close_to(wa, wb, kGradientRel));
}

TEST_F(CudaNetwork, KeepModeHalvesEqualTheWhole) {
  Config cfg;
  cfg.dims = {3, 64, 2};
  cfg.ensemble_size = 2;
  cfg.activation = Activation::Tanh;
  cfg.seed = 61;
  cfg.init_state = InitState::Keep;
  const auto u = test::random_vector<float>(10 * 3 * 3, 62);
  Network whole(cfg, Device::Cuda), halves(cfg, Device::Cuda);
  const auto full = whole.forward(Tensor<float>({10, 3, 3}, u), ForwardCopy::Outputs);
  halves.forward(Tensor<float>({5, 3, 3}, std::vector<float>(u.begin(), u.begin() + 45)), ForwardCopy::Nothing);
  const auto second = halves.forward(Tensor<float>({5, 3, 3}, std::vector<float>(u.begin() + 45, u.end())),
                                     ForwardCopy::Outputs);
  EXPECT_TRUE(second.r.data.empty()) << "rates are not copied unless asked for";
  const int64_t half = 5 * 3 * 2;
  for (int64_t e = 0; e < 2; ++e) {
    const std::vector<float> want(full.y.data.begin() + (2 * e + 1) * half, full.y.data.begin() + (2 * e + 2) * half);
    const std::vector<float> got(second.y.data.begin() + e * half, second.y.data.begin() + (e + 1) * half);
    EXPECT_TRUE(test::close_to(got, want, kForwardRel)) << "network " << e;
  }
}

TEST_F(CudaNetwork, KeepModeCarriesTheStateOnTheDevice) {
  Config cfg = network_config(Activation::Tanh, 3, 50);
  cfg.init_state = InitState::Keep;
  Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
  for (int call = 0; call < 3; ++call) {
    const Tensor<float> u({20, 4, 3}, test::random_vector<float>(20 * 4 * 3, 10 + call));
    expect_same_forward(gpu, cpu, u, "keep call " + std::to_string(call));
  }
  EXPECT_TRUE(test::close_to(gpu.kept_state().data, cpu.kept_state().data, kForwardRel));
  gpu.reset_state(), cpu.reset_state();
  expect_same_forward(gpu, cpu, Tensor<float>({5, 2, 3}, test::random_vector<float>(30, 20)), "after reset_state");
}

// TF32 (opt-in) tensor-core GEMMs: ~5e-4 relative per product; through 30 steps the outputs stay
// within 1e-2 of the float32 CPU network's scale.
TEST_F(CudaNetwork, Tf32IsAnOptInAndStaysClose) {
  const Config cfg = network_config(Activation::Tanh, 2, 60);
  Network tf32(cfg, Device::Cuda, MathMode::TF32), fp32(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
  EXPECT_NE(tf32.device_description().find("tf32"), std::string::npos) << tf32.device_description();
  EXPECT_NE(fp32.device_description().find("fp32"), std::string::npos) << fp32.device_description();
  tf32.eval(), cpu.eval();
  const Tensor<float> u({30, 8, 3}, test::random_vector<float>(30 * 8 * 3, 30));
  EXPECT_TRUE(test::close_to(tf32.forward(u).y.data, cpu.forward(u).y.data, 1e-2));
}

TEST_F(CudaNetwork, AutoPicksTheGpu) {
  Network net(network_config(Activation::ReLU, 1, 70), Device::Auto);
  EXPECT_EQ(net.device(), Device::Cuda);
}

// Noise statistics of the GPU draws. With zero weights, no biases and alpha = 1, v_t = sigma_pre
// eps_t and r_t = tanh(v_t) + sigma_post xi_t, so the draws can be read back from r: post-noise
// alone gives r = xi; pre-noise alone (sigma 0.01) gives eps = atanh(r) / 0.01 to ~1e-5.
struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const std::vector<double>& x) {
  Moments m;
  for (double v : x) m.mean += v / double(x.size());
  for (double v : x) m.var += (v - m.mean) * (v - m.mean) / double(x.size() - 1);
  return m;
}
// Pearson correlation of x[i] and x[i + shift] over the index pairs given by `pairs`.
double correlation(const std::vector<double>& x, const std::vector<std::pair<size_t, size_t>>& pairs) {
  double ma = 0, mb = 0, n = double(pairs.size());
  for (const auto& [a, b] : pairs) ma += x[a] / n, mb += x[b] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (const auto& [a, b] : pairs) {
    sab += (x[a] - ma) * (x[b] - mb);
    saa += (x[a] - ma) * (x[a] - ma);
    sbb += (x[b] - mb) * (x[b] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

TEST_F(CudaNetwork, NoiseIsStandardNormalAndUncorrelated) {
  const int64_t E = 8, T = 32, B = 32, H = 256;
  for (bool pre : {false, true}) {
    Config cfg;
    cfg.dims = {1, H, 1};
    cfg.ensemble_size = E;
    cfg.activation = Activation::Tanh;
    cfg.weights = all_layers(InitSpec::zero());
    cfg.tau = cfg.dt = 10;  // alpha = 1
    cfg.preact_noise = pre ? 0.01 : 0;
    cfg.postact_noise = pre ? 0 : 1;
    cfg.seed = pre ? 81 : 82;
    Network net(cfg, Device::Cuda);
    const auto r = net.forward(Tensor<float>({T, B, 1}, test::random_vector<float>(T * B, 90))).r.data;
    std::vector<double> x(r.size());
    for (size_t i = 0; i < r.size(); ++i) x[i] = pre ? std::atanh(double(r[i])) / 0.01 : double(r[i]);
    const double n = double(x.size());  // 2^21 draws
    const Moments m = moments(x);
    // 5 standard errors: mean 5 / sqrt(n) = 3.5e-3, variance 5 sqrt(2 / n) = 4.9e-3 (plus the
    // Box-Muller tail cut at 5.8 sigma, which lowers the variance by ~1e-7).
    EXPECT_NEAR(m.mean, 0.0, 5 / std::sqrt(n)) << (pre ? "pre" : "post");
    EXPECT_NEAR(m.var, 1.0, 5 * std::sqrt(2 / n)) << (pre ? "pre" : "post");
    auto at = [&](int64_t e, int64_t t, int64_t b, int64_t h) { return size_t(((e * T + t) * B + b) * H + h); };
    std::vector<std::pair<size_t, size_t>> networks, steps, rows, neurons;
    for (int64_t e = 0; e < E; ++e)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h) {
            if (e + 1 < E) networks.push_back({at(e, t, b, h), at(e + 1, t, b, h)});
            if (t + 1 < T) steps.push_back({at(e, t, b, h), at(e, t + 1, b, h)});
            if (b + 1 < B) rows.push_back({at(e, t, b, h), at(e, t, b + 1, h)});
            if (h + 1 < H) neurons.push_back({at(e, t, b, h), at(e, t, b, h + 1)});
          }
    // Neighbours across networks, steps, rows and neurons: |corr| < 5 / sqrt(pairs) (~4e-3).
    for (const auto& [name, pairs] : {std::pair{"networks", &networks}, std::pair{"steps", &steps},
                                      std::pair{"rows", &rows}, std::pair{"neurons", &neurons}})
      EXPECT_LT(std::abs(correlation(x, *pairs)), 5 / std::sqrt(double(pairs->size())))
          << (pre ? "pre" : "post") << " noise correlated across " << name;
    // A second call draws new noise.
    const auto r2 = net.forward(Tensor<float>({T, B, 1}, test::random_vector<float>(T * B, 90))).r.data;
    EXPECT_NE(r, r2);
  }
}

}  // namespace
}  // namespace ctrnn
