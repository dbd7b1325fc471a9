// The optimizer's update rules checked against closed forms written out here, independently of
// the shared update bodies (kernels/update_bodies.hpp) that both backends run: Adam's
// per-synapse plasticity scale, its bias correction at any step, and weight decay.
#include <gtest/gtest.h>

#include <cmath>

#include "double_network.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

constexpr int64_t kT = 8, kB = 3, kI = 2, kH = 6, kO = 2;

// tanh and random inputs: every weight gets a non-zero gradient, so Adam moves each one.
Config tanh_config() {
  Config c;
  c.dims = {kI, kH, kO};
  c.seed = 23;
  c.activation = Activation::Tanh;
  c.biases = all_layers(InitSpec::uniform());
  return c;
}

// One step on a fixed random batch; returns the change of every hidden weight.
std::vector<double> hidden_step(BasicNetwork<double>& net, BasicTrainer<double>& trainer) {
  const Tensor<double> u({kT, kB, kI}, test::random_vector<double>(kT * kB * kI, 5));
  const Tensor<double> target({kT, kB, kO}, test::random_vector<double>(kT * kB * kO, 6));
  const std::vector<double> before = net.params().w_hid;
  trainer.step(u, target);
  std::vector<double> delta(before.size());
  for (size_t i = 0; i < delta.size(); ++i) delta[i] = net.params().w_hid[i] - before[i];
  return delta;
}

// With eps = 0, Adam's update is lr * (m / c1) / sqrt(v / c2). Starting from zero moments at
// step t, m = (1 - b1) g and v = (1 - b2) g^2, so every weight moves by exactly
// lr * ((1 - b1) / c1) / sqrt((1 - b2) / c2) in the direction against its gradient, with the bias
// corrections c = 1 - b^t; the gradient's size drops out.
double adam_step_size(const OptimizerConfig& o, int64_t t) {
  const double c1 = 1 - std::pow(o.beta1, double(t)), c2 = 1 - std::pow(o.beta2, double(t));
  return o.lr[0] * ((1 - o.beta1) / c1) / std::sqrt((1 - o.beta2) / c2);
}

OptimizerConfig adam_without_eps() {
  OptimizerConfig o;
  o.lr = 0.01;
  o.eps = 0;
  return o;
}

TEST(UpdateRules, AdamScalesEachUpdateByPlasticity) {
  Config c = tanh_config();
  Array plast({kH, kH});
  for (int64_t i = 0; i < plast.numel(); ++i) plast.data[i] = double(i % 3);  // scales 0, 0.5, 1
  c.plasticity_masks = {std::nullopt, plast, std::nullopt};
  BasicNetwork<double> net(c);
  const OptimizerConfig o = adam_without_eps();
  BasicTrainer<double> trainer(net, o);
  const std::vector<double> delta = hidden_step(net, trainer);
  for (size_t i = 0; i < delta.size(); ++i)
    // The closed form and the update differ by rounding in double only.
    EXPECT_NEAR(std::abs(delta[i]), 0.5 * double(i % 3) * adam_step_size(o, 1), 1e-15) << "w_hid[" << i << "]";
}

TEST(UpdateRules, AdamBiasCorrectionAtStepOne) {
  BasicNetwork<double> net(tanh_config());
  const OptimizerConfig o = adam_without_eps();
  BasicTrainer<double> trainer(net, o);
  ASSERT_DOUBLE_EQ(adam_step_size(o, 1), o.lr[0]);  // corrected: exactly lr; uncorrected: 3.16 lr
  for (double d : hidden_step(net, trainer)) EXPECT_NEAR(std::abs(d), o.lr[0], 1e-15);
}

TEST(UpdateRules, AdamBiasCorrectionAtALaterStep) {
  // A trainer restored at step 9 with zero moments takes step 10: the corrections 1 - b^10.
  BasicNetwork<double> net(tanh_config());
  OptimizerConfig o = adam_without_eps();
  o.beta1 = 0.8, o.beta2 = 0.95;  // corrections far from 1 at step 10
  BasicTrainer<double> trainer(net, o);
  TrainerState<double> s = trainer.state();
  s.step = 9;
  trainer.restore(s);
  const double expected = adam_step_size(o, 10);
  ASSERT_GT(std::abs(expected - o.lr[0]), 1e-3 * o.lr[0]) << "the correction must matter for this test";
  for (double d : hidden_step(net, trainer)) EXPECT_NEAR(std::abs(d), expected, 1e-15);
}

TEST(UpdateRules, SgdWeightDecayAddsTheL2Gradient) {
  // PyTorch's SGD: p -= lr (g + wd p). Two identical networks, with and without decay, differ in
  // their step by exactly lr wd p.
  BasicNetwork<double> plain(tanh_config()), decayed(tanh_config());
  OptimizerConfig o;
  o.kind = OptimizerConfig::Kind::SGD;
  o.lr = 0.1;
  BasicTrainer<double> t_plain(plain, o);
  o.weight_decay = 0.3;
  BasicTrainer<double> t_decayed(decayed, o);
  const std::vector<double> p = decayed.params().w_hid;
  const std::vector<double> d_plain = hidden_step(plain, t_plain), d_decayed = hidden_step(decayed, t_decayed);
  for (size_t i = 0; i < p.size(); ++i)
    // Rounding of the two updates in double on O(0.4) weights: 1e-15.
    EXPECT_NEAR(d_decayed[i] - d_plain[i], -0.1 * 0.3 * p[i], 1e-15) << "w_hid[" << i << "]";
}

TEST(UpdateRules, AdamWeightDecayEntersTheMoments) {
  // torch.optim.Adam's weight_decay is L2 added to the gradient before the moments (not AdamW):
  // with a decay that dominates the gradient, the first step moves each weight by lr towards 0.
  BasicNetwork<double> net(tanh_config());
  OptimizerConfig o = adam_without_eps();
  o.weight_decay = 1e6;
  BasicTrainer<double> trainer(net, o);
  const std::vector<double> p = net.params().w_hid;
  const std::vector<double> delta = hidden_step(net, trainer);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(delta[i], p[i] > 0 ? -o.lr[0] : o.lr[0], 1e-15) << "w_hid[" << i << "]";
}

}  // namespace
}  // namespace ctrnn
