// The network object: constraints, E/I balance, plasticity normalization, init statistics,
// reproducibility, keep mode, and agreement of its forward/backward with the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <sstream>

#include "ctrnn/network.hpp"
#include "ctrnn/tasks.hpp"
#include "double_network.hpp"
#include "kernels/philox.hpp"
#include "reference/ctrnn_reference.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

Array filled(Shape shape, const std::function<double(int64_t, int64_t)>& f) {
  Array a(shape);
  const int64_t post = shape.back(), pre = a.numel() / post;
  for (int64_t i = 0; i < pre; ++i)
    for (int64_t j = 0; j < post; ++j) a.data[i * post + j] = f(i, j);
  return a;
}

// Rows < n_exc excitatory (+1), the rest inhibitory (0 or less counts as inhibitory).
Array ei_rows(int64_t pre, int64_t post, int64_t n_exc) {
  return filled({pre, post}, [=](int64_t i, int64_t) { return i < n_exc ? 1.0 : -0.5; });
}

template <class T>
void expect_constraints_hold(const BasicNetwork<T>& net) {
  for (const auto& v : net.layers()) {
    int64_t checked = 0;
    for (int64_t i = 0; i < v.weight.numel(); ++i) {
      if (v.sparsity_mask && v.sparsity_mask->data[i] == 0) {
        EXPECT_EQ(v.weight.data[i], 0) << to_string(v.layer) << " entry " << i << " is masked";
        ++checked;
      }
      if (v.ei_mask) {
        if (v.ei_mask->data[i] > 0) EXPECT_GE(v.weight.data[i], 0) << to_string(v.layer) << " entry " << i;
        if (v.ei_mask->data[i] < 0) EXPECT_LE(v.weight.data[i], 0) << to_string(v.layer) << " entry " << i;
        ++checked;
      }
    }
    if (v.sparsity_mask || v.ei_mask) EXPECT_GT(checked, 0);
  }
}

Config constrained_config() {
  Config c;
  c.dims = {5, 12, 4};
  c.ensemble_size = 2;
  c.seed = 3;
  c.weights = all_layers(InitSpec::normal());
  // Per-network sparsity for the hidden layer: (E, H, H), different in each network.
  Array hidden_sparsity({2, 12, 12});
  for (int64_t i = 0; i < hidden_sparsity.numel(); ++i) hidden_sparsity.data[i] = (i * 7 + i / 144) % 3 != 0;
  c.sparsity_masks = {filled({5, 12}, [](int64_t i, int64_t j) { return (i + j) % 2; }), hidden_sparsity,
                      std::nullopt};
  c.ei_masks = {ei_rows(5, 12, 3), ei_rows(12, 12, 10), ei_rows(12, 4, 10)};
  return c;
}

TEST(Constraints, HoldAtConstruction) { expect_constraints_hold(Network(constrained_config())); }

TEST(Constraints, HoldAfterSetWeight) {
  Network net(constrained_config());
  for (Layer l : {Layer::Input, Layer::Hidden, Layer::Readout}) {
    const auto s = net.config().layer_shape(l);
    // Both forms: shared (pre, post) and per network (E, pre, post), with values of both signs.
    net.set_weight(l, Tensor<float>({s[0], s[1]}, test::random_vector<float>(s[0] * s[1], 10 + int(l))));
    expect_constraints_hold(net);
    net.set_weight(l, Tensor<float>({2, s[0], s[1]}, test::random_vector<float>(2 * s[0] * s[1], 20 + int(l))));
    expect_constraints_hold(net);
  }
  // Allowed entries keep the written value.
  const auto w = test::random_vector<float>(12 * 12, 30, 0.1, 1.0);
  net.set_weight(Layer::Hidden, Tensor<float>({12, 12}, w));
  const auto& c = net.constraints()[1];
  for (int64_t i = 0; i < 144; ++i)
    if (c.sparsity[i] == 1 && c.ei[i] == 1) EXPECT_EQ(net.params().w_hid[i], w[i]);
}

double signed_sum(const std::vector<double>& w, const std::vector<double>& ei, bool excitatory) {
  double s = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if ((ei[i] > 0) == excitatory) s += w[i];
  return s;
}

TEST(EiBalance, ScalesTheLargerSideDown) {
  for (int64_t n_exc : {10, 2}) {  // excitatory side larger, then inhibitory side larger
    Config c;
    c.dims = {1, 12, 1};
    c.seed = 5;
    c.ei_masks = {std::nullopt, ei_rows(12, 12, n_exc), std::nullopt};
    BasicNetwork<double> net(c);
    const auto& w = net.params().w_hid;
    const auto& ei = net.constraints()[1].ei;
    const double exc = signed_sum(w, ei, true), inh = -signed_sum(w, ei, false);
    EXPECT_GT(exc, 0);
    EXPECT_NEAR(exc, inh, 1e-12 * exc) << "n_exc " << n_exc;
    // The smaller side is untouched: compare with the same draw without the E/I mask.
    Config plain = c;
    plain.ei_masks = {};
    BasicNetwork<double> ref(plain);
    const auto& w0 = ref.params().w_hid;
    for (size_t i = 0; i < w.size(); ++i) {
      const bool exc_entry = ei[i] > 0;
      const double projected = exc_entry ? std::max(w0[i], 0.0) : std::min(w0[i], 0.0);
      const bool smaller_side = n_exc == 10 ? !exc_entry : exc_entry;
      if (smaller_side) EXPECT_EQ(w[i], projected);
    }
  }
}

TEST(EiBalance, OneSidedMatrixIsDividedByTen) {
  Config c;
  c.dims = {1, 8, 1};
  c.seed = 6;
  c.ei_masks = {std::nullopt, ei_rows(8, 8, 8), std::nullopt};  // all excitatory: i = 0
  BasicNetwork<double> net(c);
  Config plain = c;
  plain.ei_masks = {};
  BasicNetwork<double> ref(plain);
  for (size_t i = 0; i < 64; ++i) EXPECT_DOUBLE_EQ(net.params().w_hid[i], std::max(ref.params().w_hid[i], 0.0) / 10);
}

TEST(EiBalance, GivenWeightsAreNotRescaled) {
  Config c;
  c.dims = {1, 4, 1};
  const Array w = filled({4, 4}, [](int64_t i, int64_t j) { return 0.1 * (i + 1) + 0.01 * j; });
  c.weights[1] = InitSpec::from(w);
  c.ei_masks = {std::nullopt, ei_rows(4, 4, 2), std::nullopt};
  BasicNetwork<double> net(c);
  for (int64_t i = 0; i < 16; ++i) EXPECT_DOUBLE_EQ(net.params().w_hid[i], i / 4 < 2 ? w.data[i] : 0.0);
}

TEST(Plasticity, NormalizedTogetherOverLayers) {
  Config c;
  c.dims = {2, 3, 1};
  c.plasticity_masks = {filled({2, 3}, [](int64_t i, int64_t j) { return 1.0 + (i + j) % 3; }),
                        filled({3, 3}, [](int64_t, int64_t) { return 5.0; }), std::nullopt};
  Network net(c);
  const auto views = net.layers();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_FLOAT_EQ(views[0].plasticity.data[i * 3 + j], ((i + j) % 3) / 4.0f);
  for (float x : views[1].plasticity.data) EXPECT_FLOAT_EQ(x, 1.0f);
  for (float x : views[2].plasticity.data) EXPECT_FLOAT_EQ(x, 1.0f);  // missing mask: ones
}

TEST(Plasticity, AllEqualAndMissingGiveOnes) {
  Config c;
  c.dims = {2, 3, 2};
  Network none(c);
  c.plasticity_masks = {filled({2, 3}, [](int64_t, int64_t) { return 0.3; }), std::nullopt,
                        filled({3, 2}, [](int64_t, int64_t) { return 0.3; })};
  Network equal(c);
  for (const Network* n : {&none, &equal})
    for (const auto& v : n->layers())
      for (float x : v.plasticity.data) EXPECT_EQ(x, 1.0f);
}

TEST(Plasticity, AnyNumberOfLevels) {
  Config c;
  c.dims = {1, 4, 1};
  c.plasticity_masks = {std::nullopt, filled({4, 4}, [](int64_t i, int64_t j) { return double(i * 4 + j); }),
                        std::nullopt};
  Network net(c);  // 16 levels (nn4n refuses more than 5)
  const auto views = net.layers();
  const auto& p = views[1].plasticity.data;
  for (int64_t i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(p[i], i / 15.0f);
}

struct Moments {
  double mean, var;
};
Moments moments(const std::vector<double>& x) {
  double m = 0, v = 0;
  for (double a : x) m += a;
  m /= double(x.size());
  for (double a : x) v += (a - m) * (a - m);
  return {m, v / double(x.size() - 1)};
}

TEST(InitStatistics, UniformAndNormalFollowTheirLaws) {
  const int64_t I = 50, H = 400;
  for (auto kind : {InitSpec::Kind::Uniform, InitSpec::Kind::Normal}) {
    Config c;
    c.dims = {I, H, 3};
    c.seed = 11;
    c.weights = all_layers(InitSpec{kind, {}});
    c.biases = all_layers(InitSpec{kind, {}});
    BasicNetwork<double> net(c);
    struct Case {
      const std::vector<double>& x;
      int64_t fan_in;
      const char* name;
    };
    for (const Case& k : {Case{net.params().w_in, I, "w_in"}, Case{net.params().w_hid, H, "w_hid"},
                          Case{net.params().b_hid, H, "b_hid"}}) {
      // uniform U(-a, a), a = 1/sqrt(k): var a^2/3, var(x^2) = 4a^4/45; normal N(0, 1/k): var(x^2) = 2/k^2.
      const double n = double(k.x.size()), a2 = 1.0 / double(k.fan_in);
      const double var = kind == InitSpec::Kind::Uniform ? a2 / 3 : a2;
      const double var_of_sq = kind == InitSpec::Kind::Uniform ? 4 * a2 * a2 / 45 : 2 * a2 * a2;
      const Moments m = moments(k.x);
      // 5 standard errors: a false failure has probability below 1e-6.
      EXPECT_NEAR(m.mean, 0, 5 * std::sqrt(var / n)) << k.name;
      EXPECT_NEAR(m.var, var, 5 * std::sqrt(var_of_sq / n)) << k.name;
      if (kind == InitSpec::Kind::Uniform)
        for (double x : k.x) ASSERT_LE(std::abs(x), std::sqrt(a2)) << k.name;
    }
  }
}

Config noisy_config(uint64_t seed) {
  Config c;
  c.dims = {2, 16, 2};
  c.ensemble_size = 3;
  c.seed = seed;
  c.preact_noise = 0.5;
  c.postact_noise = 0.1;
  c.biases = all_layers(InitSpec::uniform());
  return c;
}

TEST(Reproducibility, SameSeedSameNetworkAndNoise) {
  Network a(noisy_config(7)), b(noisy_config(7)), other(noisy_config(8));
  const Tensor<float> u({10, 4, 2}, test::random_vector<float>(80, 1));
  for (int call = 0; call < 2; ++call) {  // later calls draw new noise, the same for both
    const auto ya = a.forward(u), yb = b.forward(u);
    EXPECT_EQ(ya.y.data, yb.y.data);
    EXPECT_EQ(ya.r.data, yb.r.data);
  }
  EXPECT_EQ(a.params().w_hid, b.params().w_hid);
  EXPECT_NE(a.params().w_hid, other.params().w_hid);
}

// Network k of an ensemble, rerun alone: a one-network config with first_network = k starts
// from network k's weights and biases and draws network k's noise (with zero weights, r is the
// noise's alone, so this compares the draws through the public forward). The backend tests
// compare whole training runs (test_host_backend_compare.hpp).
TEST(Reproducibility, FirstNetworkDrawsAsThatNetworkOfTheEnsemble) {
  Config c = noisy_config(9);
  c.biases = all_layers(InitSpec::uniform());
  Network ensemble(c);
  Config alone = c;
  alone.ensemble_size = 1, alone.first_network = 2;
  Network k(alone);
  const auto slice = [](const std::vector<float>& x, int64_t E, int64_t e) {
    const size_t n = x.size() / size_t(E);
    return std::vector<float>(x.begin() + e * n, x.begin() + (e + 1) * n);
  };
  EXPECT_EQ(slice(ensemble.params().w_hid, 3, 2), k.params().w_hid);
  EXPECT_EQ(slice(ensemble.params().b_in, 3, 2), k.params().b_in);
  c.weights = alone.weights = all_layers(InitSpec::zero());
  c.biases = alone.biases = all_layers(InitSpec::none());
  Network quiet(c), quiet_k(alone);
  const Tensor<float> u({6, 2, 2}, test::random_vector<float>(24, 2));
  EXPECT_EQ(slice(quiet.forward(u).r.data, 3, 2), quiet_k.forward(u).r.data);
  alone.first_network = (int64_t(1) << 24) - 1, alone.ensemble_size = 2;
  test::expect_refused([&] { alone.validate(); }, "first_network");
}

TEST(Reproducibility, EnsembleMembersDiffer) {
  Config c = noisy_config(9);
  c.weights = all_layers(InitSpec::zero());  // any difference in r is then the noise's
  c.biases = all_layers(InitSpec::none());
  Network net(c);
  const Tensor<float> u({6, 2, 2}, test::random_vector<float>(24, 2));
  const auto out = net.forward(u);
  const int64_t n = 6 * 2 * 16;
  for (int64_t e = 1; e < 3; ++e) {
    const std::vector<float> r0(out.r.data.begin(), out.r.data.begin() + n);
    const std::vector<float> re(out.r.data.begin() + e * n, out.r.data.begin() + (e + 1) * n);
    EXPECT_NE(r0, re) << "network " << e << " repeats network 0's noise";
  }
  Network gen(noisy_config(9));
  const auto& w = gen.params().w_hid;
  EXPECT_FALSE(std::equal(w.begin(), w.begin() + 256, w.begin() + 256)) << "ensemble members share weights";
}

TEST(Modes, EvalHasNoNoiseTrainHas) {
  Network net(noisy_config(4));
  const Tensor<float> u({5, 2, 2}, test::random_vector<float>(20, 3));
  net.eval();
  EXPECT_EQ(net.forward(u).r.data, net.forward(u).r.data);
  net.train();
  EXPECT_NE(net.forward(u).r.data, net.forward(u).r.data);
  EXPECT_EQ(Network(noisy_config(4)).mode(), Mode::Train);  // training is the default
}

TEST(KeepMode, TwoHalvesEqualOneWhole) {
  Config c = noisy_config(12);
  c.preact_noise = c.postact_noise = 0;
  c.init_state = InitState::Keep;
  const int64_t T = 10, B = 3, I = 2;
  const auto u = test::random_vector<float>(T * B * I, 4);
  // On the CPU backend explicitly: bit-for-bit equality across shapes is not a property of the
  // GPU (cuBLAS picks kernels, split-K included, by shape); test_cuda_network.cpp checks keep
  // mode there. Even OpenBLAS picks its kernel by the GEMMs' row count (T B = 30 rows for the
  // whole, 15 for a half), so the sums are rounded in other orders: a few float32 roundings
  // (~1e-7 relative) per product, carried through 5 leaky steps of |y| < 1: 1e-6 absolute.
  Network whole(c, Device::Cpu), halves(c, Device::Cpu);
  const auto full = whole.forward(Tensor<float>({T, B, I}, u));
  const auto first = halves.forward(Tensor<float>({T / 2, B, I}, std::vector<float>(u.begin(), u.begin() + u.size() / 2)));
  const auto second = halves.forward(Tensor<float>({T / 2, B, I}, std::vector<float>(u.begin() + u.size() / 2, u.end())));
  const int64_t half = (T / 2) * B * 2, E = 3;
  for (int64_t e = 0; e < E; ++e) {
    const float* y = &full.y.data[e * 2 * half];
    EXPECT_TRUE(test::all_close(std::vector<float>(y, y + half),
                                std::vector<float>(&first.y.data[e * half], &first.y.data[(e + 1) * half]), 1e-6, 0));
    EXPECT_TRUE(test::all_close(std::vector<float>(y + half, y + 2 * half),
                                std::vector<float>(&second.y.data[e * half], &second.y.data[(e + 1) * half]), 1e-6, 0));
  }
  // Zero mode would restart: the second half differs.
  Config z = c;
  z.init_state = InitState::Zero;
  Network zero(z, Device::Cpu);
  zero.forward(Tensor<float>({T / 2, B, I}, std::vector<float>(u.begin(), u.begin() + u.size() / 2)));
  const auto restart = zero.forward(Tensor<float>({T / 2, B, I}, std::vector<float>(u.begin() + u.size() / 2, u.end())));
  EXPECT_NE(restart.y.data, second.y.data);
  // reset_state() allows a new batch size.
  halves.reset_state();
  EXPECT_NO_THROW(halves.forward(Tensor<float>({2, 1, I}, {1, 2, 3, 4})));
}

// The network's own noise stream, read back through its documented addressing, reproduces its
// forward on the reference; backward is the reference's with unlearned gradients zeroed.
TEST(Network, ForwardAndBackwardAreTheReferences) {
  Config c = noisy_config(21);
  c.biases = {InitSpec::uniform(), InitSpec::none(), InitSpec::zero()};
  c.init_state = InitState::Learn;
  BasicNetwork<double> net(c);
  net.set_initial_state(Tensor<double>({16}, test::random_vector<double>(16, 5)));
  net.set_forward_calls(3);
  const int64_t E = 3, T = 7, B = 2, H = 16, O = 2;
  const Tensor<double> u({E, T, B, 2}, test::random_vector<double>(E * T * B * 2, 6));
  const auto out = net.forward(u);

  std::vector<double> pre(E * T * B * H), post(E * T * B * H), v0(E * B * H);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < B * H; ++i) {
        pre[(e * T + t) * B * H + i] = RandomStream(21, RandomPurpose::PreactNoise, e, t, 3).normal(i);
        post[(e * T + t) * B * H + i] = RandomStream(21, RandomPurpose::PostactNoise, e, t, 3).normal(i);
      }
  for (int64_t e = 0; e < E; ++e)
    for (int64_t i = 0; i < B * H; ++i) v0[e * B * H + i] = net.params().h0[e * H + i % H];
  const auto tr = reference::forward(net.params(), net.dynamics(), u.ptr(), true, T, B, v0.data(), pre.data(), post.data());
  EXPECT_EQ(out.y.data, tr.y);

  const auto gy = test::random_vector<double>(E * T * B * O, 7);
  const auto g = net.backward(Tensor<double>({E, T, B, O}, gy));
  const auto ref = reference::backward(net.params(), net.dynamics(), u.ptr(), true, tr, gy.data(), static_cast<const double*>(nullptr));
  EXPECT_EQ(g.w_hid, ref.w_hid);
  EXPECT_EQ(g.b_in, ref.b_in);
  EXPECT_EQ(g.h0, ref.h0);
  EXPECT_EQ(g.b_out, ref.b_out);
  for (double x : g.b_hid) EXPECT_EQ(x, 0.0) << "biases[1] is None: not learned";
}

// Sizes that cannot fit are refused before anything is allocated (before: std::bad_alloc or a
// killed process), naming the parameter; where the count fits in 64 bits, also the bytes needed
// and available.
TEST(Network, ASizeThatCannotFitIsRefused) {
  Config wide;
  wide.dims = {1, 2000000000, 1};  // W_hid alone: 4e18 values
  test::expect_refused([&] { Network net(wide, Device::Cpu); }, "dims and ensemble_size");
  Config many;
  many.ensemble_size = int64_t(1) << 24;  // 1.7e11 weights: some 5 TB with the optimizer state
  try {
    Network net(many, Device::Cpu);
    ADD_FAILURE() << "a 5 TB ensemble was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.parameter(), "dims and ensemble_size");
    EXPECT_NE(std::string(e.what()).find("bytes available"), std::string::npos) << e.what();
  }
  // Batches: a task's batch of 1e12 or 1e10 trials
  const auto task = make_task(R"({"name": "perceptual_decision"})");
  for (int64_t B : {int64_t(1000000000000), int64_t(10000000000)})
    test::expect_refused([&] { task->batch(B, 1, 0); }, "batch size");
}

TEST(PrintLayers, ReportsTheLayerFacts) {
  Config c = constrained_config();
  c.plasticity_masks = {std::nullopt, filled({12, 12}, [](int64_t i, int64_t) { return double(i % 3); }), std::nullopt};
  c.init_state = InitState::Learn;
  Network net(c);
  std::ostringstream os;
  net.print_layers(os);
  const std::string s = os.str();
  for (const char* key : {"Input Layer:", "Recurrence:", "Hidden Layer:", "Readout Layer:", "weight_min",
                          "weight_max", "bias_learnable", "sparsity", "excitatory_neurons: 20",
                          "inhibitory_neurons: 4", "plasticity_levels", "[0, 0.5, 1] (3)", "alpha", "0.1",
                          "init_state_learnable: True", "activation", "relu"})
    EXPECT_NE(s.find(key), std::string::npos) << "missing '" << key << "' in\n" << s;
}

}  // namespace
}  // namespace ctrnn
