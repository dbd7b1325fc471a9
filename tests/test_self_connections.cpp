// self_connections = false (the seed's parameter): no hidden neuron connects to itself. W_hid's
// diagonal is zero from construction, through training, projection after a user's write and
// synapse growth; the config file and checkpoints carry the setting; the default allows
// self-connections as nn4n does.
#include <gtest/gtest.h>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/config_json.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

constexpr int64_t kH = 6, kE = 2;

Config no_self_connections() {
  Config c;
  c.dims = {2, kH, 1};
  c.ensemble_size = kE;
  c.activation = Activation::Tanh;
  c.self_connections = false;
  return c;
}

// Largest |W_hid[e][i][i]| over networks and neurons.
float largest_diagonal(const Network& net) {
  const Tensor<float> w = net.layers()[1].weight;
  float worst = 0;
  for (int64_t e = 0; e < kE; ++e)
    for (int64_t i = 0; i < kH; ++i) worst = std::max(worst, std::abs(w.data[(e * kH + i) * kH + i]));
  return worst;
}

void train_steps(Network& net, int steps) {
  Trainer trainer(net, OptimizerConfig{});
  const Tensor<float> u({5, 3, 2}, test::random_vector<float>(30, 1));
  const Tensor<float> target({5, 3, 1}, test::random_vector<float>(15, 2));
  for (int s = 0; s < steps; ++s) trainer.step(u, target);
}

TEST(SelfConnections, DefaultAllowsThem) {
  Config c = no_self_connections();
  c.self_connections = true;
  Network net(c, Device::Cpu);
  EXPECT_GT(largest_diagonal(net), 0.0f);
  EXPECT_FALSE(net.layers()[1].sparsity_mask);
  EXPECT_TRUE(Config().self_connections);
}

TEST(SelfConnections, DiagonalStaysZeroThroughTrainingAndWrites) {
  Network net(no_self_connections(), Device::Cpu);
  ASSERT_TRUE(net.layers()[1].sparsity_mask);  // generated: ones with a zero diagonal
  EXPECT_EQ(largest_diagonal(net), 0.0f);
  const Tensor<float> w = net.layers()[1].weight;
  int64_t off_diagonal_nonzero = 0;
  for (int64_t k = 0; k < w.numel(); ++k) off_diagonal_nonzero += (k % kH) != (k / kH) % kH && w.data[k] != 0;
  EXPECT_EQ(off_diagonal_nonzero, kE * kH * (kH - 1));  // only the diagonal is cut
  train_steps(net, 20);
  EXPECT_EQ(largest_diagonal(net), 0.0f);
  net.set_weight(Layer::Hidden, Tensor<float>({kH, kH}, 0.3f));  // projection after a write
  EXPECT_EQ(largest_diagonal(net), 0.0f);
  EXPECT_EQ(net.layers()[1].weight.data[1], 0.3f);
}

TEST(SelfConnections, GrowthNeverAddsThem) {
  Config c = no_self_connections();
  c.sparsity_masks[1] = Array({kH, kH}, std::vector<double>(kH * kH, 0.0));     // no synapses yet
  c.synapse_growth_masks[1] = Array({kH, kH}, std::vector<double>(kH * kH, 1.0));  // every one grows
  Network net(c, Device::Cpu);
  train_steps(net, 3);
  const Tensor<float> mask = *net.layers()[1].sparsity_mask;
  for (int64_t k = 0; k < mask.numel(); ++k)
    EXPECT_EQ(mask.data[k], (k % kH) == (k / kH) % kH ? 0.0f : 1.0f) << "entry " << k;
  EXPECT_EQ(largest_diagonal(net), 0.0f);
}

TEST(SelfConnections, ConfigFilesAndCheckpointsCarryIt) {
  const Config c = config_from_json(R"({"dims": [2, 6, 1], "self_connections": false})");
  EXPECT_FALSE(c.self_connections);
  EXPECT_TRUE(config_from_json(R"({"dims": [2, 6, 1]})").self_connections);
  test::expect_refused([] { config_from_json(R"({"self_connections": "no"})"); }, "self_connections");
  test::TempDir d;
  Network net(no_self_connections(), Device::Cpu);
  save_checkpoint(d.file("c.safetensors"), net);
  const Checkpoint ck = load_checkpoint(d.file("c.safetensors"), Device::Cpu);
  EXPECT_FALSE(ck.network.config().self_connections);
  EXPECT_EQ(ck.network.params().w_hid, net.params().w_hid);
}

}  // namespace
}  // namespace ctrnn
