// Every default of nn4n 1.1.1 (../shared/seed/nn4n-ctrnn-parameters.md, SPEC.md's table; the
// loss and optimizer defaults of nn4n's RNNLoss and torch.optim.Adam), pinned in one place, for
// a Config built in code and for an empty JSON config.
#include <gtest/gtest.h>

#include "ctrnn/config_json.hpp"
#include "ctrnn/loss.hpp"
#include "ctrnn/optimizer.hpp"

namespace ctrnn {
namespace {

void expect_nn4n_defaults(const Config& c) {
  EXPECT_EQ(c.dims, (std::array<int64_t, 3>{1, 100, 1}));
  EXPECT_EQ(c.activation, Activation::ReLU);
  for (int l = 0; l < 3; ++l) {
    EXPECT_EQ(c.biases[l].kind, InitSpec::Kind::None) << "biases[" << l << "]";
    EXPECT_EQ(c.weights[l].kind, InitSpec::Kind::Uniform) << "weights[" << l << "]";
    EXPECT_FALSE(c.sparsity_masks[l]) << l;
    EXPECT_FALSE(c.ei_masks[l]) << l;
    EXPECT_FALSE(c.plasticity_masks[l]) << l;
    EXPECT_FALSE(c.synapse_growth_masks[l]) << l;
  }
  EXPECT_EQ(c.tau, 100.0);
  EXPECT_EQ(c.dt, 10.0);
  EXPECT_EQ(c.preact_noise, 0.0);
  EXPECT_EQ(c.postact_noise, 0.0);
  EXPECT_EQ(c.init_state, InitState::Zero);
  // ctrnn's own additions: one network, seed 0.
  EXPECT_EQ(c.ensemble_size, 1);
  EXPECT_EQ(c.seed, 0u);
}

TEST(Defaults, ConfigHasNn4nDefaults) { expect_nn4n_defaults(Config{}); }

TEST(Defaults, EmptyJsonConfigHasNn4nDefaults) { expect_nn4n_defaults(config_from_json("{}")); }

TEST(Defaults, LossAndOptimizerHaveNn4nAndTorchDefaults) {
  const LossWeights w;
  EXPECT_EQ(w[kMse], 1.0);
  for (LossTerm t : {kLossIn, kLossHid, kLossOut, kLossFr, kLossFrSd, kLossFrCv}) EXPECT_EQ(w[t], 0.0) << kLossTermNames[t];
  const OptimizerConfig o;  // torch.optim.Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
  EXPECT_EQ(o.kind, OptimizerConfig::Kind::Adam);
  EXPECT_EQ(o.lr, 1e-3);
  EXPECT_EQ(o.beta1, 0.9);
  EXPECT_EQ(o.beta2, 0.999);
  EXPECT_EQ(o.eps, 1e-8);
  EXPECT_EQ(o.weight_decay, 0.0);
  EXPECT_EQ(o.momentum, 0.0);
  EXPECT_EQ(o.clip_grad_norm, 0.0);
}

}  // namespace
}  // namespace ctrnn
