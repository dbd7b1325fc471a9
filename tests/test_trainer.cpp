// Training steps: PyTorch's optimizer semantics, plasticity-scaled updates, clipping, projection,
// growth, ensemble independence, refusal of bad batches and of a non-finite loss.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "ctrnn/trainer.hpp"
#include "double_network.hpp"
#include "kernels/philox.hpp"
#include "kernels/update_bodies.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

constexpr int64_t kT = 12, kB = 4, kI = 2, kH = 10, kO = 3;

Config base_config(int64_t E = 1) {
  Config c;
  c.dims = {kI, kH, kO};
  c.ensemble_size = E;
  c.seed = 17;
  c.activation = Activation::Tanh;
  c.biases = all_layers(InitSpec::uniform());
  c.init_state = InitState::Learn;
  return c;
}

struct Batch {
  Tensor<double> u, target;
};
Batch batch(uint64_t seed) {
  return {Tensor<double>({kT, kB, kI}, test::random_vector<double>(kT * kB * kI, seed)),
          Tensor<double>({kT, kB, kO}, test::random_vector<double>(kT * kB * kO, seed + 100))};
}

// dL/dparams of MSE at the current parameters, through the public forward/backward.
Gradients<double> mse_gradients(BasicNetwork<double>& net, const Batch& b) {
  const auto out = net.forward(b.u);
  Tensor<double> gy(out.y.shape);
  const double n = double(out.y.numel());
  for (int64_t i = 0; i < gy.numel(); ++i) gy.data[i] = 2 * (out.y.data[i] - b.target.data[i]) / n;
  return net.backward(gy);
}

TEST(Trainer, SgdStepScalesTheUpdateByPlasticity) {
  Config c = base_config();
  Array plast({kH, kH});
  for (int64_t i = 0; i < plast.numel(); ++i) plast.data[i] = double(i % 4);  // levels 0, 1/3, 2/3, 1
  c.plasticity_masks = {std::nullopt, plast, std::nullopt};
  BasicNetwork<double> net(c), probe(c);
  const Batch b = batch(1);
  Gradients<double> g = mse_gradients(probe, b);
  probe.apply_plasticity(g);  // nn4n's gradient scaling: equal to the scaled update under SGD
  const Params<double> before = net.params();
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  sgd.lr = 0.1;
  BasicTrainer<double> trainer(net, sgd);
  trainer.step(b.u, b.target);
  auto after = net.params().arrays();
  auto p0 = before.arrays();
  auto ga = g.arrays();
  for (size_t a = 0; a < p0.size(); ++a)
    for (size_t i = 0; i < p0[a]->size(); ++i)
      // Same arithmetic in double up to summation order inside the gradients: 1e-12.
      ASSERT_NEAR((*after[a])[i], (*p0[a])[i] - 0.1 * (*ga[a])[i], 1e-12) << kParamNames[a] << "[" << i << "]";
  for (int64_t i = 0; i < kH * kH; i += 4) EXPECT_EQ(net.params().w_hid[i], before.w_hid[i]) << "plasticity 0 froze it";
}

TEST(Trainer, AdamFollowsTorchFormula) {
  BasicNetwork<double> net(base_config()), probe(base_config());
  OptimizerConfig adam;
  adam.lr = 0.01;
  adam.weight_decay = 0.1;
  BasicTrainer<double> trainer(net, adam);
  Params<double> p = probe.params(), m = Params<double>::zeros(1, kI, kH, kO), v = m;
  for (int step = 1; step <= 3; ++step) {
    const Batch b = batch(10 + step);
    trainer.step(b.u, b.target);
    const Gradients<double> g = mse_gradients(probe, b);
    // torch.optim.Adam written out independently of kernels/update_bodies.hpp.
    auto pa = p.arrays(), ma = m.arrays(), va = v.arrays();
    auto ga = g.arrays();
    const double bc1 = 1 - std::pow(0.9, step), bc2 = 1 - std::pow(0.999, step);
    for (size_t a = 0; a < kAlpha; ++a)  // every learned array (alpha is not: no learn_tau)
      for (size_t i = 0; i < pa[a]->size(); ++i) {
        double& x = (*pa[a])[i];
        const double gi = (*ga[a])[i] + 0.1 * x;
        double& mi = (*ma[a])[i];
        double& vi = (*va[a])[i];
        mi = 0.9 * mi + 0.1 * gi;
        vi = 0.999 * vi + 0.001 * gi * gi;
        x -= 0.01 * (mi / bc1) / (std::sqrt(vi / bc2) + 1e-8);
      }
    probe.set_weight(Layer::Input, Tensor<double>({kI, kH}, p.w_in));
    probe.set_weight(Layer::Hidden, Tensor<double>({kH, kH}, p.w_hid));
    probe.set_weight(Layer::Readout, Tensor<double>({kH, kO}, p.w_out));
    for (Layer l : {Layer::Input, Layer::Hidden, Layer::Readout}) probe.set_bias(l, Tensor<double>({l == Layer::Readout ? kO : kH}, p.bias(l)));
    probe.set_initial_state(Tensor<double>({kH}, p.h0));
    probe.set_forward_calls(net.forward_calls());
  }
  auto a = net.params().arrays();
  auto e = p.arrays();
  // Algebraically equal forms of the same update in double: 1e-12 absolute on O(0.3) weights.
  for (size_t k = 0; k < a.size(); ++k) EXPECT_TRUE(test::all_close(*a[k], *e[k], 1e-12, 1e-10)) << kParamNames[k];
  EXPECT_EQ(trainer.steps_done(), 3);
}

TEST(Trainer, ClippingBoundsTheGlobalNormPerNetwork) {
  BasicNetwork<double> net(base_config()), probe(base_config());
  const Batch b = batch(3);
  const Gradients<double> g = mse_gradients(probe, b);
  double norm = 0;
  for (const auto* x : g.arrays())
    for (double y : *x) norm += y * y;
  norm = std::sqrt(norm);
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  sgd.lr = 1;
  sgd.clip_grad_norm = 1e-3;
  const Params<double> before = net.params();
  BasicTrainer<double> trainer(net, sgd);
  const LossReport r = trainer.step(b.u, b.target);
  EXPECT_NEAR(r.grad_norm[0], norm, 1e-12 * norm);
  double moved = 0;
  auto p1 = net.params().arrays();
  auto p0 = before.arrays();
  for (size_t a = 0; a < p0.size(); ++a)
    for (size_t i = 0; i < p0[a]->size(); ++i) moved += std::pow((*p1[a])[i] - (*p0[a])[i], 2);
  // torch's clip_grad_norm_: the update's norm is lr * max_norm * norm / (norm + 1e-6).
  EXPECT_NEAR(std::sqrt(moved), 1e-3 * norm / (norm + 1e-6), 1e-12);
}

// The same on the float CPU backend (the kernels' update), where torch's epsilon shows: a batch
// whose targets are the outputs plus 1e-5 has a gradient norm near 1e-6, so the factor
// norm / (norm + 1e-6) is far from 1 (the 1% tolerance: float rounding of the moved parameters).
TEST(Trainer, ClippingKeepsTorchsEpsilonOnTheFloatBackend) {
  Network net(base_config(), Device::Cpu), probe(base_config(), Device::Cpu);
  const Batch b = batch(4);
  const Tensor<float> u(b.u.shape, std::vector<float>(b.u.data.begin(), b.u.data.end()));
  Tensor<float> target = probe.forward(u).y;
  target.shape = {kT, kB, kO};
  for (size_t i = 0; i < target.data.size(); ++i) target.data[i] += (i % 2 ? 1e-5f : -1e-5f);
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  sgd.lr = 1e6;  // an update of ~1e-3 in all: float rounding of the parameters (~3e-8 each) stays far below
  sgd.clip_grad_norm = 1e-9;
  const Params<float> before = net.params();
  Trainer trainer(net, sgd);
  const double norm = trainer.step(u, target).grad_norm[0];
  ASSERT_LT(norm, 1e-5) << "the gradient norm must be near torch's epsilon for the check to see it";
  ASSERT_GT(norm, 1e-9) << "clipping must apply";
  double moved = 0;
  auto p1 = net.params().arrays();
  auto p0 = before.arrays();
  for (size_t a = 0; a < p0.size(); ++a)
    for (size_t i = 0; i < p0[a]->size(); ++i) moved += std::pow(double((*p1[a])[i]) - double((*p0[a])[i]), 2);
  const double expected = 1e6 * 1e-9 * norm / (norm + 1e-6);
  EXPECT_NEAR(std::sqrt(moved), expected, 1e-2 * expected);
}

TEST(Trainer, ConstraintsHoldAfterSteps) {
  Config c = base_config();
  Array ei({kH, kH}), sp({kH, kH});
  for (int64_t i = 0; i < kH * kH; ++i) ei.data[i] = i / kH < 5 ? 1 : -1, sp.data[i] = (i % 3) != 0;
  c.ei_masks = {std::nullopt, ei, std::nullopt};
  c.sparsity_masks = {std::nullopt, sp, std::nullopt};
  Network net(c);
  OptimizerConfig adam;
  adam.lr = 0.01;
  Trainer trainer(net, adam);
  for (int s = 0; s < 20; ++s) {
    const Batch b = batch(40 + s);
    trainer.step(Tensor<float>(b.u.shape, std::vector<float>(b.u.data.begin(), b.u.data.end())),
                 Tensor<float>(b.target.shape, std::vector<float>(b.target.data.begin(), b.target.data.end())));
  }
  const auto& w = net.params().w_hid;
  int64_t negative = 0;
  for (int64_t i = 0; i < kH * kH; ++i) {
    if (sp.data[i] == 0) EXPECT_EQ(w[i], 0.0f);
    if (ei.data[i] > 0) EXPECT_GE(w[i], 0.0f);
    if (ei.data[i] < 0) {
      EXPECT_LE(w[i], 0.0f);
      negative += w[i] < 0;
    }
  }
  EXPECT_GT(negative, 0) << "inhibitory weights all vanished: the test would not see a sign error";
}

TEST(Trainer, SynapsesGrowWithTheirProbability) {
  Config c = base_config();
  c.dims = {kI, 60, kO};
  Array sp({60, 60}, 0.0), grow({60, 60}, 0.5);
  for (int64_t i = 0; i < 60; ++i) sp.data[i * 60 + i] = 1;  // only self-connections at first
  c.sparsity_masks = {std::nullopt, sp, std::nullopt};
  c.synapse_growth_masks = {std::nullopt, grow, std::nullopt};
  Network net(c);
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  Trainer trainer(net, sgd);
  trainer.step(Tensor<float>({3, 2, kI}, 0.5f), Tensor<float>({3, 2, kO}, 0.1f));
  const auto& mask = net.constraints()[1].sparsity;
  double grown = 0;
  for (int64_t i = 0; i < 3600; ++i)
    if (sp.data[i] == 0) {
      grown += mask[i];
      if (mask[i] == 1) EXPECT_EQ(net.params().w_hid[i], 0.0f) << "a grown synapse starts at 0";
    }
  // 3540 absent synapses, p = 0.5: mean 1770, sd 30; 5 sd.
  EXPECT_NEAR(grown, 1770, 150);
  // A second step learns the grown synapses.
  trainer.step(Tensor<float>({3, 2, kI}, 0.5f), Tensor<float>({3, 2, kO}, 0.1f));
  int64_t learned = 0;
  for (int64_t i = 0; i < 3600; ++i) learned += sp.data[i] == 0 && mask[i] == 1 && net.params().w_hid[i] != 0;
  EXPECT_GT(learned, 0);
}

// The exact draw (docs/contract.md "Constraints, plasticity, growth"): after optimizer step k, the
// absent synapse i of network e in layer l is present iff it was before, or the uniform number
// i of RandomStream(seed, Growth, e, l, k) is below its probability. Pinned draw by draw for
// steps 1, 2 and 3 (a draw with the previous step's index, or another network's or layer's,
// gives another mask), on the CPU backend of float networks and the reference (double).
template <class T>
void expect_growth_draws(Device device) {
  Config c = base_config(2);
  c.dims = {kI, 30, kO};
  Array sp({30, 30}, 0.0), grow({30, 30}, 0.05), sp_out({30, kO}, 0.0), grow_out({30, kO}, 0.1);
  for (int64_t i = 0; i < 30; ++i) sp.data[i * 30 + i] = 1;
  for (int64_t i = 0; i < 30; ++i) sp_out.data[i * kO + i % kO] = 1;
  c.sparsity_masks = {std::nullopt, sp, sp_out};
  c.synapse_growth_masks = {std::nullopt, grow, grow_out};
  BasicNetwork<T> net(c, device);
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  BasicTrainer<T> trainer(net, sgd);
  std::array<std::vector<T>, 3> expected = {std::vector<T>{}, net.constraints()[1].sparsity, net.constraints()[2].sparsity};
  for (int64_t step = 1; step <= 3; ++step) {
    trainer.step(Tensor<T>({3, 2, kI}, T(0.5)), Tensor<T>({3, 2, kO}, T(0.1)));
    int64_t grown = 0;
    for (int l = 1; l < 3; ++l) {
      const int64_t n = l == 1 ? 30 * 30 : 30 * kO;
      const Array& p = l == 1 ? grow : grow_out;
      for (int64_t e = 0; e < 2; ++e) {
        const RandomStream rng(c.seed, RandomPurpose::Growth, uint32_t(e), uint32_t(l), uint32_t(step));
        for (int64_t i = 0; i < n; ++i) {
          T& m = expected[l][size_t(e * n + i)];
          if (m == T(0) && rng.uniform(uint32_t(i)) < float(p.data[i])) m = T(1), ++grown;
        }
      }
      EXPECT_EQ(net.constraints()[l].sparsity, expected[l]) << "layer " << l << " after step " << step;
    }
    EXPECT_GT(grown, 10) << "step " << step << ": too few synapses grew for the check to see a wrong draw";
  }
}

TEST(Trainer, SynapsesGrowByTheirStepsOwnDraws) {
  expect_growth_draws<float>(Device::Cpu);
  expect_growth_draws<double>(Device::Cpu);
}

TEST(Trainer, EnsembleMembersTrainIndependently) {
  // Network 0 of an ensemble draws the same weights and noise as a lone network with the same
  // seed, and its loss, clipping and update involve only itself. Bit for bit on the CPU backend
  // (one BLAS call per network, of the same shape for E = 1 and 3); on the GPU, cuBLAS may pick
  // another kernel for a batch of 3 than of 1: test_cuda_network.cpp compares to a tolerance.
  Config one = base_config(1), three = base_config(3);
  one.preact_noise = three.preact_noise = 0.2;
  Network a(one, Device::Cpu), b(three, Device::Cpu);
  OptimizerConfig adam;
  adam.clip_grad_norm = 0.5;
  Trainer ta(a, adam), tb(b, adam);
  for (int s = 0; s < 3; ++s) {
    const Batch x = batch(60 + s);
    const Tensor<float> u(x.u.shape, std::vector<float>(x.u.data.begin(), x.u.data.end()));
    const Tensor<float> t(x.target.shape, std::vector<float>(x.target.data.begin(), x.target.data.end()));
    const auto ra = ta.step(u, t);
    const auto rb = tb.step(u, t);
    EXPECT_EQ(ra.total[0], rb.total[0]);
    EXPECT_NE(rb.total[0], rb.total[1]);
  }
  EXPECT_TRUE(std::equal(a.params().w_hid.begin(), a.params().w_hid.end(), b.params().w_hid.begin()));
}

TEST(Trainer, NonFiniteLossChangesNothing) {
  Network net(base_config());
  Trainer trainer(net, OptimizerConfig{});
  Tensor<float> u({kT, kB, kI}, 1.0f), target({kT, kB, kO}, 0.0f);
  trainer.step(u, target);
  net.set_weight(Layer::Readout, Tensor<float>({kH, kO}, 3e38f));  // y overflows to Inf
  const Params<float> before = net.params();
  try {
    trainer.step(u, target);
    ADD_FAILURE() << "a non-finite loss was accepted";
  } catch (const NonFiniteLoss& e) {
    EXPECT_EQ(e.step(), 2);
    EXPECT_NE(std::string(e.what()).find("step 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(trainer.steps_done(), 1);
  EXPECT_EQ(net.params().w_hid, before.w_hid);
  EXPECT_EQ(net.params().w_out, before.w_out);
}

// Per-network targets (E, T, B, O) of batch `seed`, network `bad`'s (none: -1) holding 3e38, so
// that its squared error, and its loss, overflow to Inf (a NaN target would be refused).
Tensor<float> ensemble_target(int64_t E, uint64_t seed, int64_t bad = -1) {
  const Batch x = batch(seed);
  Tensor<float> t({E, kT, kB, kO});
  for (int64_t e = 0; e < E; ++e)
    for (int64_t i = 0; i < x.target.numel(); ++i) t.data[size_t(e * x.target.numel() + i)] = float(x.target.data[i] + e);
  if (bad >= 0) t.data[size_t(bad * x.target.numel() + 5)] = 3e38f;
  return t;
}
Tensor<float> inputs(uint64_t seed) {
  const Batch x = batch(seed);
  return Tensor<float>(x.u.shape, std::vector<float>(x.u.data.begin(), x.u.data.end()));
}
std::vector<float> network_slice(const std::vector<float>& x, int64_t E, int64_t e) {
  const size_t n = x.size() / size_t(E);
  return std::vector<float>(x.begin() + e * n, x.begin() + (e + 1) * n);
}

// A diverging network does not stop the others: network 1's loss is Inf at step 2; it is reported
// diverged from then on and keeps its step-1 parameters, while networks 0 and 2 equal, bit for
// bit, the same ensemble trained on good data. The flags are trainer state: a trainer restored
// from state() goes on as the original does.
TEST(Trainer, ADivergingNetworkDoesNotStopTheOthers) {
  const int64_t E = 3;
  Network a(base_config(E)), b(base_config(E));
  Trainer ta(a, OptimizerConfig{}), tb(b, OptimizerConfig{});
  Params<float> after_step_1;
  for (int64_t step = 1; step <= 4; ++step) {
    const LossReport ra = ta.step(inputs(30 + step), ensemble_target(E, 30 + step, step == 2 ? 1 : -1));
    const LossReport rb = tb.step(inputs(30 + step), ensemble_target(E, 30 + step));
    EXPECT_EQ(ra.diverged, (std::vector<bool>{false, step >= 2, false})) << "step " << step;
    EXPECT_EQ(rb.diverged, std::vector<bool>(3, false));
    if (step == 2) EXPECT_TRUE(std::isinf(ra.total[1]));
    if (step == 1) after_step_1 = a.params();
    for (int64_t e : {0, 2}) EXPECT_EQ(ra.total[size_t(e)], rb.total[size_t(e)]) << "step " << step;
  }
  EXPECT_EQ(ta.steps_done(), 4);
  EXPECT_EQ(ta.diverged(), (std::vector<bool>{false, true, false}));
  const auto pa = a.params().arrays(), pb = b.params().arrays(), p1 = std::as_const(after_step_1).arrays();
  for (int k = 0; k < kNumParamArrays; ++k) {
    for (int64_t e : {0, 2}) EXPECT_EQ(network_slice(*pa[k], E, e), network_slice(*pb[k], E, e)) << kParamNames[k];
    EXPECT_EQ(network_slice(*pa[k], E, 1), network_slice(*p1[k], E, 1)) << kParamNames[k] << " of the frozen network";
  }
  const TrainerState<float> s = ta.state();
  EXPECT_EQ(s.diverged, (std::vector<bool>{false, true, false}));
  Network c(base_config(E));  // a's parameters, as load_checkpoint sets them
  const Params<float>& p = a.params();
  for (int l = 0; l < 3; ++l) {
    c.set_weight(Layer(l), Tensor<float>(param_shape(kWIn + l, c.config()), p.weight(Layer(l))));
    c.set_bias(Layer(l), Tensor<float>(param_shape(kBIn + l, c.config()), p.bias(Layer(l))));
  }
  c.set_initial_state(Tensor<float>(param_shape(kH0, c.config()), p.h0));
  Trainer tc(c, OptimizerConfig{});
  tc.restore(s);
  EXPECT_EQ(tc.diverged(), s.diverged);
  const LossReport ra = ta.step(inputs(40), ensemble_target(E, 40));
  const LossReport rc = tc.step(inputs(40), ensemble_target(E, 40));
  EXPECT_EQ(rc.diverged, ra.diverged);
  EXPECT_EQ(c.params().w_hid, a.params().w_hid);
  TrainerState<float> wrong = s;
  wrong.diverged = {true, false};
  EXPECT_THROW(tc.restore(wrong), InvalidArgument);
  wrong.diverged = {true, true, true};
  EXPECT_THROW(tc.restore(wrong), InvalidArgument);
}

// When the last networks still training diverge, the run cannot go on: NonFiniteLoss names one,
// and the step changes nothing (not even the flags), as a one-network run has always done.
TEST(Trainer, TheLastNetworkDivergingStopsAndChangesNothing) {
  const int64_t E = 2;
  Network net(base_config(E));
  Trainer trainer(net, OptimizerConfig{});
  trainer.step(inputs(50), ensemble_target(E, 50, 0));
  ASSERT_EQ(trainer.diverged(), (std::vector<bool>{true, false}));
  const Params<float> before = net.params();
  try {
    trainer.step(inputs(51), ensemble_target(E, 51, 1));
    ADD_FAILURE() << "the step of the last network's Inf loss returned";
  } catch (const NonFiniteLoss& e) {
    EXPECT_EQ(e.step(), 2);
    EXPECT_EQ(e.network(), 1);
    EXPECT_NE(std::string(e.what()).find("loss became Inf at step 2 (network 1)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(trainer.steps_done(), 1);
  EXPECT_EQ(trainer.diverged(), (std::vector<bool>{true, false}));
  EXPECT_EQ(net.params().w_hid, before.w_hid);
  EXPECT_EQ(net.params().b_out, before.b_out);
  trainer.step(inputs(52), ensemble_target(E, 52));  // network 1 trains on
  EXPECT_EQ(trainer.steps_done(), 2);
  EXPECT_NE(network_slice(net.params().w_hid, E, 1), network_slice(before.w_hid, E, 1));
  EXPECT_EQ(network_slice(net.params().w_hid, E, 0), network_slice(before.w_hid, E, 0));
}

// Per-network values through the public API: network k of an ensemble trained with per-network
// values equals network k of the same ensemble trained with network k's values for all (CPU
// backend, bit for bit); bad per-network values are refused naming the parameter.
TEST(Trainer, PerNetworkValuesEqualUniformRuns) {
  const int64_t E = 3;
  OptimizerConfig mixed;
  mixed.lr = PerNetwork::each({1e-2, 4e-2, 2e-3});
  mixed.weight_decay = PerNetwork::each({0, 1e-2, 0});
  mixed.clip_grad_norm = PerNetwork::each({0.05, 0, 1});
  LossWeights w;
  w[kLossFr] = PerNetwork::each({0, 0.3, 0.1});
  w[kLossHid] = PerNetwork::each({0.2, 0, 0});
  Network a(base_config(E));
  Trainer ta(a, mixed, w);
  for (int64_t s = 0; s < 3; ++s) ta.step(inputs(60 + s), ensemble_target(E, 60 + s));
  for (int64_t k = 0; k < E; ++k) {
    OptimizerConfig o;
    o.lr = mixed.lr[k], o.weight_decay = mixed.weight_decay[k], o.clip_grad_norm = mixed.clip_grad_norm[k];
    LossWeights u;
    for (int t = 0; t < kNumLossTerms; ++t) u.lambda[t] = w.lambda[t][k];
    Network b(base_config(E));
    Trainer tb(b, o, u);
    for (int64_t s = 0; s < 3; ++s) tb.step(inputs(60 + s), ensemble_target(E, 60 + s));
    const auto pa = a.params().arrays(), pb = b.params().arrays();
    for (int q = 0; q < kNumParamArrays; ++q)
      EXPECT_EQ(network_slice(*pa[q], E, k), network_slice(*pb[q], E, k)) << kParamNames[q] << " of network " << k;
  }
  Network c(base_config(E));
  OptimizerConfig two = mixed;
  two.lr = PerNetwork::each({1e-2, 1e-2});
  test::expect_refused([&] { Trainer t(c, two); }, "lr");
  OptimizerConfig negative = mixed;
  negative.lr = PerNetwork::each({1e-2, -1e-2, 1e-2});
  test::expect_refused([&] { Trainer t(c, negative); }, "lr");
  LossWeights bad;
  bad[kLossOut] = PerNetwork::each({0, 0, -1});
  test::expect_refused([&] { Trainer t(c, OptimizerConfig{}, bad); }, "lambda_out");
}

// torch.optim.Adam gets 1 - beta1 and 1 - beta2 as Python floats (double) and rounds them once;
// computed in float they are 0.100000024 and 0.00099998713 (6e-6 relatively larger).
TEST(Trainer, AdamRoundsOneMinusBetaFromDouble) {
  OptimizerConfig adam;
  const body::AdamCoeffs c = body::AdamCoeffs::of(adam, 1);
  float p = 0, m = 0, v = 0;
  body::adam_update(p, 1.0f, m, v, 1.0f, c);  // from zero moments, m = (1 - b1) g, v = (1 - b2) g^2
  EXPECT_EQ(m, float(1.0 - 0.9));
  EXPECT_EQ(v, float(1.0 - 0.999));
}

TEST(Trainer, BadBatchesAreRefused) {
  Network net(base_config());
  Trainer trainer(net, OptimizerConfig{});
  const Tensor<float> u({kT, kB, kI}, 1.0f), target({kT, kB, kO}, 0.0f);
  auto refused = [&](auto&& f, const std::string& name) {
    try {
      f();
      ADD_FAILURE() << "accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.parameter(), name) << e.what();
    }
  };
  refused([&] { trainer.step(u, Tensor<float>({kT, kB, kO + 1})); }, "target");
  Tensor<float> neg({kT, kB}, 1.0f);
  neg.data[3] = -1;
  refused([&] { trainer.step(u, target, &neg); }, "mask");
  const Tensor<float> zeros({kT, kB}, 0.0f);
  refused([&] { trainer.step(u, target, &zeros); }, "mask");
  OptimizerConfig bad;
  bad.lr = -1;
  refused([&] { Trainer t(net, bad); }, "lr");
  LossWeights w;
  w[kLossFr] = -0.1;
  refused([&] { Trainer t(net, OptimizerConfig{}, w); }, "lambda_fr");
  EXPECT_EQ(trainer.steps_done(), 0);
  EXPECT_EQ(net.forward_calls(), 0u);
}

TEST(Trainer, LossDecreasesOnAFixedBatch) {
  Network net(base_config());
  OptimizerConfig adam;
  adam.lr = 0.02;
  Trainer trainer(net, adam);
  const Batch b = batch(7);
  const Tensor<float> u(b.u.shape, std::vector<float>(b.u.data.begin(), b.u.data.end()));
  Tensor<float> t(b.target.shape, std::vector<float>(b.target.data.begin(), b.target.data.end()));
  for (auto& x : t.data) x *= 0.3f;
  const double first = trainer.step(u, t).total[0];
  double last = first;
  for (int s = 0; s < 150; ++s) last = trainer.step(u, t).total[0];
  EXPECT_LT(last, 0.5 * first);
}

}  // namespace
}  // namespace ctrnn
