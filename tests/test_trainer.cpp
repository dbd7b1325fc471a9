// Training steps: PyTorch's optimizer semantics, plasticity-scaled updates, clipping, projection,
// growth, ensemble independence, refusal of bad batches and of a non-finite loss.
#include <gtest/gtest.h>

#include <cmath>

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
    for (size_t a = 0; a < pa.size(); ++a)
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
