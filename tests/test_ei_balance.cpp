// E/I balance at construction (SPEC.md "Constraints"), for every layer and every network of an
// ensemble in float, beside test_network's checks of the hidden layer of one double network.
#include <gtest/gtest.h>

#include <cmath>

#include "ctrnn/network.hpp"

namespace ctrnn {
namespace {

// Rows of an (pre, post) mask: the first `excitatory` rows +1, the others -1.
Array ei_rows(int64_t pre, int64_t post, int64_t excitatory) {
  Array m({pre, post});
  for (int64_t i = 0; i < pre * post; ++i) m.data[i] = i / post < excitatory ? 1 : -1;
  return m;
}

TEST(EiBalance, EveryLayerOfEveryNetworkSumsToZero) {
  Config c;
  c.dims = {4, 10, 3};
  c.ensemble_size = 3;
  c.seed = 8;
  c.weights = all_layers(InitSpec::normal());
  c.ei_masks = {ei_rows(4, 10, 3), ei_rows(10, 10, 8), ei_rows(10, 3, 2)};
  Network net(c, Device::Cpu);
  for (Layer layer : {Layer::Input, Layer::Hidden, Layer::Readout}) {
    const auto s = c.layer_shape(layer);
    const int64_t n = s[0] * s[1];
    const std::vector<float>& w = net.params().weight(layer);
    const std::vector<float>& ei = net.constraints()[int(layer)].ei;
    for (int64_t e = 0; e < c.ensemble_size; ++e) {
      double exc = 0, inh = 0;
      for (int64_t i = e * n; i < (e + 1) * n; ++i) (ei[size_t(i)] > 0 ? exc : inh) += w[size_t(i)];
      EXPECT_GT(exc, 0) << to_string(layer) << " network " << e;
      EXPECT_LT(inh, 0) << to_string(layer) << " network " << e;
      // Balanced in double, stored in float: sums of n float-rounded terms, 1e-5 relative.
      EXPECT_NEAR(exc, -inh, 1e-5 * exc) << to_string(layer) << " network " << e;
    }
  }
}

}  // namespace
}  // namespace ctrnn
