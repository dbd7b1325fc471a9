// docs/contract.md "Bad input": each rule is refused with an error naming the parameter, and the
// object a refused call was made on is unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ctrnn/error.hpp"
#include "ctrnn/network.hpp"
#include "tensor_checks.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using test::expect_refused;

void expect_config_refused(const Config& c, const std::string& parameter) {
  expect_refused([&] { Network n(c); }, parameter);
}

Config small() {
  Config c;
  c.dims = {2, 4, 3};
  return c;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(BadInput, NonPositiveDims) {
  for (int i = 0; i < 3; ++i) {
    Config c = small();
    c.dims[i] = i == 1 ? -3 : 0;
    expect_config_refused(c, "dims");
  }
}

TEST(BadInput, DimsWhoseArraySizesOverflow) {
  Config c = small();
  c.dims = {1, int64_t(1) << 32, 1};  // H x H = 2^64 wraps to 0
  expect_refused([&] { c.validate(); }, "dims");
  c.dims = {int64_t(1) << 40, int64_t(1) << 20, 1};
  c.ensemble_size = 1 << 4;  // E x I x H = 2^64
  expect_refused([&] { c.validate(); }, "dims");
}

TEST(BadInput, AlphaOutsideUnitInterval) {
  Config c = small();
  c.dt = 20, c.tau = 10;  // alpha = 2: named by tau, which may differ per network and neuron
  expect_config_refused(c, "tau");
  c.tau = 0;
  expect_config_refused(c, "tau");
  c = small();
  c.dt = -1;
  expect_config_refused(c, "dt");
  c.dt = std::nan("");
  expect_config_refused(c, "dt");
}

TEST(BadInput, UnknownActivation) { expect_refused([] { parse_activation("gelu"); }, "activation"); }

TEST(BadInput, UnknownInitName) {
  expect_refused([] { InitSpec::parse("xavier", "weights[1]"); }, "weights[1]");
  expect_refused([] { parse_init_state("random"); }, "init_state");
}

TEST(BadInput, WeightsNone) {
  Config c = small();
  c.weights[2] = InitSpec::none();
  expect_config_refused(c, "weights[2]");
}

TEST(BadInput, WrongShapes) {
  Config c = small();
  c.weights[0] = InitSpec::from(Array({4, 2}));  // post x pre: the nn4n orientation mistake
  expect_config_refused(c, "weights[0]");
  c = small();
  c.biases[2] = InitSpec::from(Array({4}));
  expect_config_refused(c, "biases[2]");
  c = small();
  c.sparsity_masks[1] = Array({4, 5});
  expect_config_refused(c, "sparsity_masks[1]");
  c = small();
  c.ei_masks[2] = Array({3, 4});
  expect_config_refused(c, "ei_masks[2]");
  c = small();
  c.plasticity_masks[0] = Array({2, 2, 4});  // E = 1, not 2
  expect_config_refused(c, "plasticity_masks[0]");
}

TEST(BadInput, NanOrInfInArrays) {
  Config c = small();
  Array w({4, 4}, 0.1);
  w.data[5] = kNaN;
  c.weights[1] = InitSpec::from(w);
  expect_config_refused(c, "weights[1]");
  c = small();
  Array m({2, 4}, 1.0);
  m.data[0] = INFINITY;
  c.ei_masks[0] = m;
  expect_config_refused(c, "ei_masks[0]");
  c = small();
  Array b({3}, 0.0);
  b.data[2] = -INFINITY;
  c.biases[2] = InitSpec::from(b);
  expect_config_refused(c, "biases[2]");
}

TEST(BadInput, NegativeNoise) {
  Config c = small();
  c.preact_noise = -0.1;
  expect_config_refused(c, "preact_noise");
  c = small();
  c.postact_noise = -1;
  expect_config_refused(c, "postact_noise");
}

TEST(BadInput, GrowthProbabilityOutsideUnitInterval) {
  Config c = small();
  c.sparsity_masks[1] = Array({4, 4}, 0.0);
  c.synapse_growth_masks[1] = Array({4, 4}, 0.5);
  c.synapse_growth_masks[1]->data[3] = 1.5;
  expect_config_refused(c, "synapse_growth_masks[1]");
}

TEST(BadInput, GrowthWithoutSparsityMask) {
  Config c = small();
  c.synapse_growth_masks[1] = Array({4, 4}, 0.5);
  expect_config_refused(c, "synapse_growth_masks[1]");
}

TEST(BadInput, NonPositiveEnsembleSize) {
  Config c = small();
  c.ensemble_size = 0;
  expect_config_refused(c, "ensemble_size");
}

TEST(BadInput, KeepModeWithChangedBatchSize) {
  Config c = small();
  c.init_state = InitState::Keep;
  Network net(c);
  net.forward(Tensor<float>({3, 2, 2}, 0.5f));
  const auto before = net.forward(Tensor<float>({3, 2, 2}, 0.5f)).y.data;
  expect_refused([&] { net.forward(Tensor<float>({3, 5, 2}, 0.5f)); }, "inputs");
  // The carried state survived the refused call: a fresh network given the same three calls
  // (minus the refused one) produces the same next output.
  Network twin(c);
  twin.forward(Tensor<float>({3, 2, 2}, 0.5f));
  twin.forward(Tensor<float>({3, 2, 2}, 0.5f));
  EXPECT_EQ(net.forward(Tensor<float>({3, 2, 2}, 0.5f)).y.data, twin.forward(Tensor<float>({3, 2, 2}, 0.5f)).y.data);
  (void)before;
}

TEST(BadInput, InputsWrongShapeOrNotFinite) {
  Network net(small());
  expect_refused([&] { net.forward(Tensor<float>({3, 2, 5})); }, "inputs");
  expect_refused([&] { net.forward(Tensor<float>({3, 2})); }, "inputs");
  Tensor<float> u({3, 2, 2}, 0.1f);
  u.data[4] = NAN;
  expect_refused([&] { net.forward(u); }, "inputs");
  EXPECT_EQ(net.forward_calls(), 0u) << "a refused forward advanced the noise stream";
}

TEST(BadInput, SetWeightWrongShapeOrNanChangesNothing) {
  Network net(small());
  const auto before = net.params();
  expect_refused([&] { net.set_weight(Layer::Hidden, Tensor<float>({4, 3})); }, "weight of the hidden layer");
  Tensor<float> w({4, 4}, 0.1f);
  w.data[0] = NAN;
  expect_refused([&] { net.set_weight(Layer::Hidden, w); }, "weight of the hidden layer");
  EXPECT_EQ(net.params().w_hid, before.w_hid);
}

TEST(BadInput, SetBiasOfLayerWithoutBias) {
  Network net(small());  // biases None
  expect_refused([&] { net.set_bias(Layer::Readout, Tensor<float>({3})); }, "bias of the readout layer");
  for (float b : net.params().b_out) EXPECT_EQ(b, 0.0f);
}

TEST(BadInput, InitialStateOutsideLearnMode) {
  Network net(small());
  expect_refused([&] { net.set_initial_state(Tensor<float>({4}, 1.0f)); }, "init_state");
}

TEST(BadInput, BackwardShapes) {
  Network net(small());
  EXPECT_THROW(net.backward(Tensor<float>({1, 3, 2, 3})), StateError);
  net.forward(Tensor<float>({3, 2, 2}, 0.2f));
  expect_refused([&] { net.backward(Tensor<float>({1, 3, 2, 4})); }, "dy");
  const Tensor<float> dr({1, 2, 2, 4});
  expect_refused([&] { net.backward(Tensor<float>({1, 3, 2, 3}, 1.0f), &dr); }, "dr");
}

// The finiteness check scans in vector lanes: every bad value must be found wherever it lies (each
// lane, the tail after the last full block, lengths around the block size), and named by its index.
template <class T>
void expect_every_bad_value_found() {
  const T bad[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                   -std::numeric_limits<T>::infinity()};
  for (int64_t n : {1, 7, 15, 16, 17, 31, 33, 100}) {
    std::vector<T> v(size_t(n), T(0.5));
    EXPECT_NO_THROW(detail::check_finite(v.data(), n, "x", true));
    for (int64_t i = 0; i < n; ++i) {
      for (T b : bad) {
        v[size_t(i)] = b;
        EXPECT_TRUE(detail::has_nonfinite(v.data(), n, false)) << n << " " << i << " " << b;
        try {
          detail::check_finite(v.data(), n, "x");
          ADD_FAILURE() << "not refused: " << b << " at " << i << " of " << n;
        } catch (const InvalidArgument& e) {
          EXPECT_NE(std::string(e.what()).find("at flat index " + std::to_string(i)), std::string::npos) << e.what();
        }
      }
      v[size_t(i)] = T(-0.25);  // negative: refused only where values must be >= 0
      EXPECT_FALSE(detail::has_nonfinite(v.data(), n, false));
      EXPECT_TRUE(detail::has_nonfinite(v.data(), n, true)) << n << " " << i;
      v[size_t(i)] = T(-0.0);  // -0 is >= 0
      EXPECT_FALSE(detail::has_nonfinite(v.data(), n, true));
      v[size_t(i)] = T(0.5);
    }
  }
}

TEST(BadInput, CheckFiniteFindsEveryBadValue) {
  expect_every_bad_value_found<float>();
  expect_every_bad_value_found<double>();
}

}  // namespace
}  // namespace ctrnn
