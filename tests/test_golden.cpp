// Golden tests against nn4n 1.1.1 itself. The fixtures in tests/golden/data were written by
// tests/golden/make_golden.py (see tests/golden/README.md): nn4n's initialized weights, inputs,
// outputs, states, loss terms and gradients. Each test loads a fixture, builds a Network from the
// fixture's config, overwrites its weights, biases and h0 with nn4n's (nn4n cannot take weight
// arrays, so the fixture cannot be made from ours), and compares everything computed here with
// what nn4n computed. A missing fixture is a failure, never a skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "ctrnn/config_json.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/trainer.hpp"
#include "reference/ctrnn_reference.hpp"
#include "reference/loss_reference.hpp"
#include "test_util.hpp"

#ifndef CTRNN_GOLDEN_DIR
#error "CTRNN_GOLDEN_DIR (the folder of the golden fixtures) must be defined"
#endif

namespace ctrnn {
namespace {

// Tolerance for every float32 comparison with nn4n: |ours - nn4n| <= kAtol * max|nn4n| + kRtol |nn4n|
// elementwise. Both sides run in float32 (unit roundoff 6e-8) but sum in different orders (torch's
// blocked matmuls vs our loops), and the recurrence carries rounding through up to 80 steps: every
// comparison passes with 2e-6 in place of both 1e-5 below (1e-6 fails 3 of ~2000 tensors, the
// fr_cv and fr_sd gradients), so 1e-5 leaves a margin of 5 while any modelling error (a wrong sign,
// scale, transpose, missing term or tie rule) shows up at 1e-3 or more. The absolute part is scaled by the tensor's largest element
// because gradients sum terms of both signs: an entry that cancels to near zero has a rounding
// error of the size of its terms, not of itself.
constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-5;

const char* const kCases[] = {
    "relu_nobias_zero",     "tanh_uniform_learn",   "sigmoid_zerobias_normal",     "retanh_learn_tie",
    "relu_sparse_uniform",  "dale_relu",            "dale_tanh_learn",             "plasticity_5_levels",
    "plasticity_3_levels_sigmoid", "relu_normal_learn_b8", "tanh_b1_t80",           "sigmoid_learn_alpha1",
    "retanh_zero_uniform_sparse",  "relu_zero_hidden_learn",
};

std::string fixture_path(const std::string& name) { return std::string(CTRNN_GOLDEN_DIR) + "/" + name + ".safetensors"; }

constexpr Layer kLayers[3] = {Layer::Input, Layer::Hidden, Layer::Readout};
const char* const kWeightNames[3] = {"w_in", "w_hid", "w_out"};
const char* const kBiasNames[3] = {"b_in", "b_hid", "b_out"};

double max_abs(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m = std::max(m, std::abs(v));
  return m;
}

// Compares `actual` with the fixture's tensor `name` (shape: its element count).
template <class S>
::testing::AssertionResult matches(const std::vector<S>& actual, const SafetensorsFile& f, const std::string& name,
                                   double rtol = kRtol, double atol_fraction = kAtol) {
  if (!f.contains(name)) return ::testing::AssertionFailure() << "fixture " << f.source << " has no tensor '" << name << "'";
  const std::vector<double> expected = f.get<double>(name).data;
  auto r = test::all_close(actual, expected, atol_fraction * max_abs(expected), rtol);
  if (!r) r << " [" << name << "]";
  return r;
}

template <class S>
std::vector<S> scalar(S x) {
  return {x};
}

struct Fixture {
  SafetensorsFile file;
  Config config;
  int64_t T = 0, B = 0;
  LossWeights lambdas;
  std::vector<std::string> loss_terms;  // the terms nn4n computed: "mse" and those with lambda != 0
};

// The network config a fixture's metadata holds, its masks read from the fixture itself.
Config fixture_config(const SafetensorsFile& f) {
  return config_from_json(f.metadata.at("config"), ".", &f);
}

Fixture load_fixture(const std::string& name) {
  Fixture fx;
  fx.file = SafetensorsFile::read(fixture_path(name));  // throws FileError for a missing file
  fx.config = fixture_config(fx.file);
  fx.T = std::stoll(fx.file.metadata.at("T"));
  fx.B = std::stoll(fx.file.metadata.at("B"));
  const auto lambdas = nlohmann::json::parse(fx.file.metadata.at("lambdas"));
  for (int k = 0; k < kNumLossTerms; ++k) fx.lambdas.lambda[k] = lambdas.at(kLossTermNames[k]).get<double>();
  fx.loss_terms = nlohmann::json::parse(fx.file.metadata.at("loss_terms")).get<std::vector<std::string>>();
  return fx;
}

// A Network with nn4n's weights, biases and h0, in eval mode. On the CPU backend explicitly: the
// tolerances above were calibrated there (the GPU is compared with the CPU in test_cuda_gpu).
Network network_from(const Fixture& fx) {
  Network net(fx.config, Device::Cpu);
  const SafetensorsFile& f = fx.file;
  for (int l = 0; l < 3; ++l) {
    net.set_weight(kLayers[l], f.get<float>(kWeightNames[l]));
    if (net.bias_learnable(kLayers[l])) net.set_bias(kLayers[l], f.get<float>(kBiasNames[l]));
  }
  if (net.h0_learnable()) net.set_initial_state(f.get<float>("h0"));
  net.eval();
  return net;
}

LossTerm term_of(const std::string& name) {
  for (int k = 0; k < kNumLossTerms; ++k)
    if (name == kLossTermNames[k]) return static_cast<LossTerm>(k);
  throw std::runtime_error("unknown loss term " + name);
}

class Golden : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    fx_ = load_fixture(GetParam());
    net_ = std::make_unique<Network>(network_from(fx_));
    const Config& c = fx_.config;
    I_ = c.dims[0], H_ = c.dims[1], O_ = c.dims[2];
    u_ = fx_.file.get<float>("u");
    target_ = fx_.file.get<float>("target");
    ASSERT_EQ(u_.shape, (Shape{fx_.T, fx_.B, I_}));
    ASSERT_EQ(target_.shape, (Shape{fx_.T, fx_.B, O_}));
    out_ = net_->forward(u_);
    // The same forward on the reference, for the trace that reference::loss needs.
    std::vector<float> v0(fx_.B * H_, 0.0f);
    if (net_->h0_learnable())
      for (int64_t i = 0; i < fx_.B * H_; ++i) v0[i] = net_->params().h0[i % H_];
    trace_ = reference::forward(net_->params(), net_->dynamics(), u_.ptr(), false, fx_.T, fx_.B, v0.data(),
                                static_cast<const float*>(nullptr), static_cast<const float*>(nullptr));
  }

  // Loss with the given lambdas on the forward's trace.
  reference::LossResult<float> loss(const LossWeights& w) const {
    return reference::loss(net_->params(), trace_, target_.ptr(), false, static_cast<const float*>(nullptr),
                           LossMask::None, w);
  }

  // Network::backward with the loss's dL/dy and dL/dr, plus the loss's direct weight gradients.
  Gradients<float> gradients(const reference::LossResult<float>& l) {
    const Tensor<float> gy({1, fx_.T, fx_.B, O_}, l.gy);
    const Tensor<float> gr({1, fx_.T, fx_.B, H_}, l.gr);
    Gradients<float> g = net_->backward(gy, &gr);
    for (Layer layer : kLayers)
      for (size_t i = 0; i < g.weight(layer).size(); ++i) g.weight(layer)[i] += l.direct.weight(layer)[i];
    return g;
  }

  void expect_gradients(const Gradients<float>& g, const std::string& prefix) {
    const auto arrays = g.arrays();
    // nn4n 1.1.1 does not learn alpha: its fixtures have no alpha gradient, and ours is zero
    for (int k = 0; k < kAlpha; ++k) EXPECT_TRUE(matches(*arrays[k], fx_.file, prefix + kParamNames[k]));
    EXPECT_EQ(g.alpha, std::vector<float>(g.alpha.size(), 0.0f)) << "alpha is not learned";
  }

  // dL/dr of a firing-rate term. nn4n's fr_cv differentiates sqrt(square(r)), which gives NaN
  // where r == 0 (0 * inf); there we expect the subgradient 0 (SPEC: |r|, whose derivative we take
  // as sign(r) with sign(0) = 0), which is also what nn4n's parameter gradients amount to when
  // relu's backward masks the NaN. Elsewhere the usual comparison.
  ::testing::AssertionResult matches_direct_rate_gradient(const std::vector<float>& actual, const std::string& name) {
    const std::vector<double> expected = fx_.file.get<double>(name).data;
    const std::vector<double> r = fx_.file.get<double>("r").data;
    if (expected.size() != actual.size()) return ::testing::AssertionFailure() << name << ": size differs";
    std::vector<double> ours, theirs;
    int64_t nan = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (std::isnan(expected[i])) {
        ++nan;
        if (r[i] != 0 || actual[i] != 0)
          return ::testing::AssertionFailure() << name << ": nn4n has NaN at " << i << " where r = " << r[i]
                                               << ", ours " << actual[i] << " (expected r = 0 and ours 0)";
        continue;
      }
      ours.push_back(actual[i]), theirs.push_back(expected[i]);
    }
    if (nan > 0) std::cout << "  " << name << ": " << nan << " NaN entries of nn4n at r == 0 (ours 0)\n";
    auto res = test::all_close(ours, theirs, kAtol * max_abs(theirs), kRtol);
    if (!res) res << " [" << name << "]";
    return res;
  }

  Fixture fx_;
  std::unique_ptr<Network> net_;
  int64_t I_ = 0, H_ = 0, O_ = 0;
  Tensor<float> u_, target_;
  ForwardResult<float> out_;
  reference::Trace<float> trace_;
};

// nn4n's weights satisfy its masks, so writing them through set_weight (which projects) keeps them.
TEST_P(Golden, WeightsSurviveProjection) {
  for (int l = 0; l < 3; ++l) {
    const auto w = fx_.file.get<float>(kWeightNames[l]);
    EXPECT_EQ(net_->params().weight(kLayers[l]), w.data) << kWeightNames[l];
    const auto b = fx_.file.get<float>(kBiasNames[l]);
    if (!net_->bias_learnable(kLayers[l]))  // nn4n: None is a zero bias that is not learned
      for (float x : b.data) EXPECT_EQ(x, 0.0f) << kBiasNames[l];
  }
}

// Plasticity normalized together over the layers, missing masks ones: as nn4n's.
TEST_P(Golden, PlasticityScalesAsNn4n) {
  const auto views = net_->layers();
  for (int l = 0; l < 3; ++l)
    // nn4n normalizes in float64, we in double then round to float: 1 float ulp.
    EXPECT_TRUE(matches(views[l].plasticity.data, fx_.file, "nn4n.plasticity[" + std::to_string(l) + "]", 1e-7, 0))
        << "layer " << l;
}

TEST_P(Golden, ForwardOutputsAndStates) {
  EXPECT_EQ(out_.y.shape, (Shape{1, fx_.T, fx_.B, O_}));
  EXPECT_EQ(out_.r.shape, (Shape{1, fx_.T, fx_.B, H_}));
  EXPECT_TRUE(matches(out_.y.data, fx_.file, "y"));
  EXPECT_TRUE(matches(out_.r.data, fx_.file, "r"));
  // The float CPU backend computes with OpenBLAS (other summation orders than the reference's
  // loops): the replay agrees within float rounding, the same bound as against nn4n.
  EXPECT_TRUE(test::all_close(trace_.y, out_.y.data, kAtol * max_abs(std::vector<double>(out_.y.data.begin(), out_.y.data.end())), kRtol))
      << "the reference replay differs from Network::forward";
}

// Every term nn4n's RNNLoss computed (lambda * term) and the total.
TEST_P(Golden, LossTerms) {
  const auto l = loss(fx_.lambdas);
  for (const std::string& name : fx_.loss_terms) {
    const LossTerm k = term_of(name);
    EXPECT_TRUE(matches(scalar(fx_.lambdas[k][0] * double(l.terms[k])), fx_.file, "loss." + name));
  }
  // Every non-zero lambda was computed by nn4n (nothing silently unchecked).
  std::set<std::string> listed(fx_.loss_terms.begin(), fx_.loss_terms.end());
  for (int k = 0; k < kNumLossTerms; ++k)
    if (fx_.lambdas.lambda[k] != 0) EXPECT_TRUE(listed.count(kLossTermNames[k])) << kLossTermNames[k];
  EXPECT_TRUE(matches(scalar(double(l.total[0])), fx_.file, "loss.total"));
}

// loss.backward() on the whole loss: BPTT of dL/dy and dL/dr plus the weight terms' direct parts.
TEST_P(Golden, TotalGradients) { expect_gradients(gradients(loss(fx_.lambdas)), "grad.total."); }

TEST_P(Golden, GradientsAfterApplyPlasticity) {
  Gradients<float> g = gradients(loss(fx_.lambdas));
  net_->apply_plasticity(g);
  for (int l = 0; l < 3; ++l)
    EXPECT_TRUE(matches(g.weight(kLayers[l]), fx_.file, std::string("grad.plastic.") + kWeightNames[l]));
}

// Each term on its own: its value was checked above; here its gradients (weight terms: w.r.t. their
// weight; firing-rate terms: the direct dL/dr and, through BPTT, every parameter).
TEST_P(Golden, GradientOfEachTerm) {
  for (const std::string& name : fx_.loss_terms) {
    SCOPED_TRACE("term " + name);
    const LossTerm k = term_of(name);
    LossWeights only;
    only.lambda.fill(0);
    only[k] = fx_.lambdas[k];
    const auto l = loss(only);
    if (k == kLossIn || k == kLossHid || k == kLossOut) {
      const int layer = k - kLossIn;
      EXPECT_TRUE(matches(l.direct.weight(kLayers[layer]), fx_.file, "grad." + name + "." + kWeightNames[layer]));
      continue;
    }
    if (k != kMse) EXPECT_TRUE(matches_direct_rate_gradient(l.gr, "grad." + name + ".r"));
    expect_gradients(gradients(l), "grad." + name + ".");
  }
}

INSTANTIATE_TEST_SUITE_P(Nn4n, Golden, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

// Every fixture in the folder is one of the cases above or the trainer's (none is ignored).
TEST(GoldenFixtures, AllPresentAndListed) {
  for (const char* name : kCases) EXPECT_NO_THROW(SafetensorsFile::read(fixture_path(name))) << name;
  EXPECT_NO_THROW(SafetensorsFile::read(fixture_path("adam_5_steps")));
}

// The trainer's fixture (issue 5 tests the trainer with it): five torch.optim.Adam steps on nn4n's
// MSE in training mode. Checked here for consistency with our forward/backward: each step's loss
// and gradient from the fixture's weights, and torch's Adam update (written out below) from those
// gradients reproduces the next weights after projection by the masks.
TEST(GoldenAdam, FiveStepsFollowFromOurGradients) {
  const SafetensorsFile f = SafetensorsFile::read(fixture_path("adam_5_steps"));
  const Config c = fixture_config(f);
  const auto opt = nlohmann::json::parse(f.metadata.at("optimizer"));
  const double lr = opt.at("lr"), beta1 = opt.at("betas")[0], beta2 = opt.at("betas")[1], eps = opt.at("eps");
  const int steps = std::stoi(f.metadata.at("steps"));
  const int64_t T = std::stoll(f.metadata.at("T")), B = std::stoll(f.metadata.at("B"));
  const int64_t H = c.dims[1], O = c.dims[2];
  const auto learned = nlohmann::json::parse(f.metadata.at("learned")).get<std::vector<std::string>>();
  ASSERT_EQ(learned, (std::vector<std::string>{"w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out"}));
  const Tensor<float> u = f.get<float>("u"), target = f.get<float>("target");
  const std::vector<double> losses = f.get<double>("loss").data;
  ASSERT_EQ(int(losses.size()), steps);

  Network net(c, Device::Cpu);  // training mode (the default); the config has no noise; CPU as above
  std::vector<std::vector<double>> m(6), v(6);
  for (int k = 0; k < 6; ++k) {
    const std::string name = "initial." + learned[k];
    if (k < 3) net.set_weight(kLayers[k], f.get<float>(name));
    else net.set_bias(kLayers[k - 3], f.get<float>(name));
  }
  for (int step = 1; step <= steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::string prefix = "step" + std::to_string(step) + ".";
    net.forward(u);
    Params<float> p = net.params();
    std::vector<float> v0(B * H, 0.0f);
    const auto tr = reference::forward(p, net.dynamics(), u.ptr(), false, T, B, v0.data(),
                                       static_cast<const float*>(nullptr), static_cast<const float*>(nullptr));
    const auto l = reference::loss(p, tr, target.ptr(), false, static_cast<const float*>(nullptr), LossMask::None,
                                   LossWeights{});
    EXPECT_TRUE(test::all_close(scalar(l.total[0]), std::vector<double>{losses[step - 1]}, 0, kRtol));
    Gradients<float> g = net.backward(Tensor<float>({1, T, B, O}, l.gy));
    auto grads = g.arrays();
    auto params = p.arrays();
    for (int k = 0; k < 6; ++k) {
      EXPECT_TRUE(matches(*grads[k], f, prefix + "grad." + learned[k]));
      // torch.optim.Adam (single-tensor path), in double, from nn4n's gradient so that each step
      // tests the update alone.
      const std::vector<double> grad = f.get<double>(prefix + "grad." + learned[k]).data;
      std::vector<double>& mk = m[k];
      std::vector<double>& vk = v[k];
      mk.resize(grad.size(), 0.0), vk.resize(grad.size(), 0.0);
      const double bc1 = 1 - std::pow(beta1, step), bc2 = 1 - std::pow(beta2, step);
      std::vector<float> next(grad.size());
      for (size_t i = 0; i < grad.size(); ++i) {
        mk[i] = beta1 * mk[i] + (1 - beta1) * grad[i];
        vk[i] = beta2 * vk[i] + (1 - beta2) * grad[i] * grad[i];
        next[i] = float((*params[k])[i] - lr / bc1 * mk[i] / (std::sqrt(vk[i]) / std::sqrt(bc2) + eps));
      }
      const Tensor<float> t(k < 3 ? Shape{c.layer_shape(kLayers[k])[0], c.layer_shape(kLayers[k])[1]}
                                  : Shape{c.layer_shape(kLayers[k - 3])[1]},
                            next);
      if (k < 3) net.set_weight(kLayers[k], t);  // projects by the masks, as nn4n's next forward
      else net.set_bias(kLayers[k - 3], t);
    }
    for (int k = 0; k < 6; ++k) {
      // The update is lr * m/(sqrt(v)+eps) ~ 1e-2 per step; float32 rounding of the stored weights
      // (|w| < 1, ulp 6e-8) is all that may differ: 1e-6 absolute.
      EXPECT_TRUE(test::all_close(*net.params().arrays()[k], f.get<double>(prefix + learned[k]).data, 1e-6, 0))
          << prefix + learned[k];
    }
  }
}

// Our Trainer (forward, MSE, BPTT, Adam, projection) against nn4n + torch.optim.Adam for five
// steps: losses and the projected weights after every step.
TEST(GoldenAdam, TrainerFollowsNn4nAndTorchAdam) {
  const SafetensorsFile f = SafetensorsFile::read(fixture_path("adam_5_steps"));
  const Config c = fixture_config(f);
  const auto opt = nlohmann::json::parse(f.metadata.at("optimizer"));
  ASSERT_EQ(opt.at("weight_decay").get<double>(), 0.0);
  OptimizerConfig adam;
  adam.lr = opt.at("lr").get<double>();
  adam.beta1 = opt.at("betas")[0];
  adam.beta2 = opt.at("betas")[1];
  adam.eps = opt.at("eps");
  const int steps = std::stoi(f.metadata.at("steps"));
  const std::vector<double> losses = f.get<double>("loss").data;
  const char* const names[6] = {"w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out"};
  Network net(c, Device::Cpu);
  for (int k = 0; k < 3; ++k) {
    net.set_weight(kLayers[k], f.get<float>(std::string("initial.") + names[k]));
    net.set_bias(kLayers[k], f.get<float>(std::string("initial.") + names[k + 3]));
  }
  Trainer trainer(net, adam);
  const Tensor<float> u = f.get<float>("u"), target = f.get<float>("target");
  for (int step = 1; step <= steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const LossReport r = trainer.step(u, target);
    EXPECT_TRUE(test::all_close(scalar(r.total[0]), std::vector<double>{losses[step - 1]}, 0, kRtol));
    const auto arrays = net.params().arrays();
    for (int k = 0; k < 6; ++k)
      EXPECT_TRUE(matches(*arrays[k], f, "step" + std::to_string(step) + "." + names[k]));
  }
}

}  // namespace
}  // namespace ctrnn
