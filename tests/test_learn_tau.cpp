// Learned time constants (docs/contract.md "Learned time constants"): dL/dalpha of every float
// path against finite differences of its own forward; training keeps alpha within its bounds,
// tau_plasticity freezes, weight decay leaves alpha alone, clip_grad_norm counts it; checkpoints
// round-trip it bit for bit and load the files written before alpha was a parameter; bad values
// get one-line errors. (Against the double reference's dalpha on the same weights, and through
// training against the CPU backend: the `learntau` cases of test_host_orchestration,
// test_blas_backend and test_persistent_emulated; ensembles: their NetworkAlone tests.)
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/config_json.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/trainer.hpp"
#include "orchestrated/cluster_emulator.hpp"
#include "orchestrated/host_primitives.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "test_host_backend_compare.hpp"
#include "test_util.hpp"
#include "training_run/run_record.hpp"

namespace ctrnn {
namespace {

using detail::HostPrims;
using detail::OrchestratedBackend;
using detail::RecurrencePath;

// ---- dL/dalpha against finite differences, on every float path

struct PathCase {
  std::string name;
  std::function<std::unique_ptr<detail::Backend<float>>(const Config&)> make;
};
void PrintTo(const PathCase& p, std::ostream* os) { *os << p.name; }

std::unique_ptr<detail::Backend<float>> host_run(const Config& c, RecurrencePath path) {
  auto b = std::make_unique<OrchestratedBackend<HostPrims>>(c, /*poison=*/true);
  detail::RecurrenceOptions o;
  o.path = path;
  if (path == RecurrencePath::PersistentCluster) o.cluster_size = 2;
  b->set_recurrence(o);
  return b;
}

std::vector<PathCase> paths() {
  return {
      {"cpu_reference", [](const Config& c) { return detail::make_cpu_backend<float>(c); }},
      {"cpu_backend", [](const Config& c) { return detail::make_host_backend(c); }},  // OpenBLAS where built
      {"host_sequence", [](const Config& c) { return host_run(c, RecurrencePath::Sequence); }},
      {"persistent_cta", [](const Config& c) { return host_run(c, RecurrencePath::PersistentCta); }},
      {"persistent_cluster", [](const Config& c) { return host_run(c, RecurrencePath::PersistentCluster); }},
  };
}

class AlphaGradient : public ::testing::TestWithParam<PathCase> {};

// The probe objective L = sum y gy + sum r gr of one forward (noise fixed by the call index), in
// double from the float outputs; its gradient is what backward(gy, gr) computes. Central
// differences with h = 1e-3 over every network's alpha of every neuron (alpha 0.05 to 0.5):
// truncation O(h^2) ~ 1e-6 relative; rounding: each of the ~300 float outputs carries ~6e-8
// relative error, so L+ - L- is uncertain by ~1e-6 of its terms' scale, 5e-4 after dividing by
// 2h. Measured worst 5.5e-5 of max |dL/dalpha| on every path (2026-12-03); tolerance 1e-3, which a
// dropped term (the noise's share of dv/dalpha, the 1/alpha, one step) exceeds by far.
TEST_P(AlphaGradient, MatchesFiniteDifferences) {
  test::BackendCase c;
  c.activation = Activation::Tanh, c.E = 2, c.I = 2, c.H = 6, c.O = 2, c.T = 8, c.B = 3;
  c.noise = c.biases = c.learn_tau = true, c.seed = 41;
  const test::Problem p = test::make_problem(c);
  auto b = GetParam().make(p.config);
  test::load_problem(*b, p);
  const auto args = test::forward_args(c, p, 3, detail::InitialState::H0, false);
  auto objective = [&](const std::vector<float>& alpha) {
    std::array<detail::Located<const float>, kNumParamArrays> src{};
    src[kAlpha] = alpha.data();
    b->write_params(src);
    b->forward(args);
    std::vector<float> y = test::poisoned(c.E * c.T * c.B * c.O), r = test::poisoned(c.E * c.T * c.B * c.H);
    b->read_forward(y.data(), r.data());
    double L = 0;
    for (size_t i = 0; i < y.size(); ++i) L += double(y[i]) * double(p.gy[i]);
    for (size_t i = 0; i < r.size(); ++i) L += double(r[i]) * double(p.gr[i]);
    return L;
  };
  objective(p.params.alpha);
  b->backward(p.gy.data(), p.gr.data());
  Gradients<float> g;
  b->read_gradients(g);
  double scale = 0, worst = 0;
  for (float x : g.alpha) scale = std::max(scale, double(std::abs(x)));
  ASSERT_GT(scale, 0) << "an all-zero alpha gradient checks nothing";
  const float h = 1e-3f;
  for (size_t i = 0; i < g.alpha.size(); ++i) {
    std::vector<float> plus = p.params.alpha, minus = p.params.alpha;
    plus[i] += h, minus[i] -= h;
    const double fd = (objective(plus) - objective(minus)) / (double(plus[i]) - double(minus[i]));
    worst = std::max(worst, std::abs(fd - double(g.alpha[i])));
  }
  EXPECT_LT(worst / scale, 1e-3) << "dalpha relative error " << worst / scale;
  RecordProperty("worst_relative_error", std::to_string(worst / scale));
}

INSTANTIATE_TEST_SUITE_P(Paths, AlphaGradient, ::testing::ValuesIn(paths()),
                         [](const auto& info) { return info.param.name; });

// ---- Training

Config learned_config(uint64_t seed = 3) {
  Config c;
  c.dims = {2, 8, 2};
  c.activation = Activation::Tanh;
  c.biases = all_layers(InitSpec::uniform());
  c.tau = TimeConstants::each_neuron({20, 25, 30, 40, 50, 70, 100, 200});  // dt 10: alpha 0.5 to 0.05
  c.learn_tau = true;
  c.preact_noise = 0.05;
  c.seed = seed;
  return c;
}

// A fixed batch per step: u (T, B, I) and target (T, B, O).
struct Batch {
  Tensor<float> u, target;
};
Batch batch(int64_t step, int64_t T = 10, int64_t B = 4) {
  Batch b{Tensor<float>({T, B, 2}), Tensor<float>({T, B, 2})};
  b.u.data = test::random_vector<float>(size_t(T * B * 2), 100 + uint64_t(step), -1, 1);
  b.target.data = test::random_vector<float>(size_t(T * B * 2), 200 + uint64_t(step), -0.5, 0.5);
  return b;
}

std::vector<float> initial_alpha(const Config& c) {
  const std::vector<double> a = c.alpha();
  return std::vector<float>(a.begin(), a.end());
}

// A bound that binds: tau_max = 40 (alpha >= 0.25) and a learning rate large enough to push
// alpha past both ends; after every step each alpha is within [float(dt / tau_max), 1], and some
// sit exactly on a bound (the clamp's values), the others moved.
TEST(LearnTau, TrainingKeepsAlphaWithinItsBounds) {
  Config c = learned_config();
  c.tau = TimeConstants::each_neuron({10, 12, 15, 20, 25, 30, 35, 40});  // alpha 1 to 0.25
  c.tau_max = 40;
  Network net(c, Device::Cpu);
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  sgd.lr = 20;
  Trainer trainer(net, sgd);
  const float lo = float(c.alpha_min());
  int at_bound = 0;
  for (int64_t step = 1; step <= 6; ++step) {
    const Batch b = batch(step);
    trainer.step(b.u, b.target);
    for (float a : net.params().alpha) {
      ASSERT_GE(a, lo) << "step " << step;
      ASSERT_LE(a, 1.0f) << "step " << step;
      at_bound += a == lo || a == 1.0f;
    }
  }
  EXPECT_GT(at_bound, 0) << "the clamp never bound: the test checks no projection";
  EXPECT_NE(net.params().alpha, initial_alpha(c));
}

// tau_plasticity scales each neuron's alpha update: 0 freezes that neuron's alpha (bit for bit),
// the others learn; the weights learn as without it.
TEST(LearnTau, TauPlasticityZeroFreezesANeuron) {
  Config c = learned_config();
  c.tau_plasticity = {1, 0, 0.5, 1, 2, 0, 1, 1};
  for (const auto kind : {OptimizerConfig::Kind::Adam, OptimizerConfig::Kind::SGD}) {
    Network net(c, Device::Cpu);
    OptimizerConfig opt;
    opt.kind = kind;
    opt.lr = kind == OptimizerConfig::Kind::Adam ? 1e-2 : 1.0;
    Trainer trainer(net, opt);
    for (int64_t step = 1; step <= 3; ++step) {
      const Batch b = batch(step);
      trainer.step(b.u, b.target);
    }
    const std::vector<float> before = initial_alpha(c), after = net.params().alpha;
    for (size_t h = 0; h < after.size(); ++h) {
      if (c.tau_plasticity[h] == 0) EXPECT_EQ(after[h], before[h]) << "frozen neuron " << h;
      else EXPECT_NE(after[h], before[h]) << "learning neuron " << h;
    }
  }
}

// Weight decay is not applied to alpha (it would pull alpha to 0, tau to infinity): with no input,
// no bias and v_0 = 0 every v_t is 0, so every gradient is 0 (alpha's: v_t - v_{t-1} = 0) and
// only weight decay moves anything. The weights shrink; alpha stays, bit for bit.
TEST(LearnTau, WeightDecayLeavesAlphaAlone) {
  Config c = learned_config();
  c.biases = all_layers(InitSpec::none());
  c.preact_noise = 0;
  const Tensor<float> u({10, 4, 2}), target({10, 4, 2});  // zeros
  for (const auto kind : {OptimizerConfig::Kind::Adam, OptimizerConfig::Kind::SGD}) {
    Network net(c, Device::Cpu);
    const Params<float> before = net.params();
    OptimizerConfig opt;
    opt.kind = kind;
    opt.lr = 1e-2;
    opt.weight_decay = 0.5;
    Trainer trainer(net, opt);
    for (int64_t step = 1; step <= 3; ++step) trainer.step(u, target);
    const Gradients<float> g = net.gradients();
    EXPECT_EQ(g.alpha, std::vector<float>(g.alpha.size(), 0.0f)) << "the case needs a zero alpha gradient";
    EXPECT_NE(net.params().w_hid, before.w_hid) << "weight decay moved no weight: the case checks nothing";
    EXPECT_EQ(net.params().alpha, before.alpha);
  }
}

// clip_grad_norm's norm (the reported grad_norm) includes alpha's gradient, as
// torch.nn.utils.clip_grad_norm_ over all of a module's parameters does.
TEST(LearnTau, GradientNormIncludesAlpha) {
  Network net(learned_config(), Device::Cpu);
  OptimizerConfig opt;
  opt.clip_grad_norm = 1e-3;
  Trainer trainer(net, opt);
  const Batch b = batch(1);
  const LossReport report = trainer.step(b.u, b.target);
  const Gradients<float> g = net.gradients();  // the step's, before clipping
  double all = 0, alpha = 0;
  const auto arrays = g.arrays();
  for (int k = 0; k < kNumParamArrays; ++k)
    for (float x : *arrays[size_t(k)]) all += double(x) * double(x), alpha += k == kAlpha ? double(x) * double(x) : 0;
  ASSERT_GT(alpha, 1e-6 * all) << "alpha's share must be visible in the norm";
  // float sums of squares against the same in double: a few 1e-7 relative
  EXPECT_NEAR(report.grad_norm[0], std::sqrt(all), 1e-5 * std::sqrt(all));
  EXPECT_GT(std::abs(report.grad_norm[0] - std::sqrt(all - alpha)), 1e-4 * std::sqrt(all));
}

// ---- Checkpoints

// Steps first..last of `trainer` on the fixed batches.
void train(Trainer& trainer, int64_t first, int64_t last) {
  for (int64_t step = first; step <= last; ++step) {
    const Batch b = batch(step);
    trainer.step(b.u, b.target);
  }
}

void expect_same_bits(const Params<float>& a, const Params<float>& b, const std::string& what) {
  const auto x = a.arrays(), y = b.arrays();
  for (int k = 0; k < kNumParamArrays; ++k) EXPECT_EQ(*x[size_t(k)], *y[size_t(k)]) << what << " " << kParamNames[k];
}

// Four steps in one go equal two, a checkpoint, a load and two more: alpha and its moments
// included, bit for bit.
TEST(LearnTau, CheckpointResumesBitForBit) {
  const test::TempDir dir;
  Config c = learned_config();
  c.tau_max = 500;
  c.tau_plasticity = {1, 0.5, 0, 1, 1, 1, 2, 1};
  OptimizerConfig opt;
  opt.weight_decay = 1e-3;
  Network whole(c, Device::Cpu);
  Trainer whole_trainer(whole, opt);
  train(whole_trainer, 1, 4);

  Network first(c, Device::Cpu);
  Trainer first_trainer(first, opt);
  train(first_trainer, 1, 2);
  save_checkpoint(dir.file("ck.safetensors"), first, &first_trainer);
  Checkpoint ck = load_checkpoint(dir.file("ck.safetensors"), Device::Cpu);
  EXPECT_TRUE(ck.network.config().learn_tau);
  EXPECT_EQ(ck.network.config().tau_max, c.tau_max);
  EXPECT_EQ(ck.network.config().tau_plasticity, c.tau_plasticity);
  expect_same_bits(ck.network.params(), first.params(), "loaded");
  Trainer resumed(ck.network, ck.optimizer, ck.loss_weights);
  resumed.restore(*ck.trainer_state);
  train(resumed, 3, 4);
  expect_same_bits(ck.network.params(), whole.params(), "resumed");
  const TrainerState<float> s = resumed.state(), w = whole_trainer.state();
  expect_same_bits(s.m, w.m, "m");
  expect_same_bits(s.v, w.v, "v");
  EXPECT_NE(whole.params().alpha, initial_alpha(c));
}

// A checkpoint written before alpha was a parameter has no "params.alpha" nor moments of it:
// it loads with alpha = dt / tau of its config and zero moments, and continues exactly as the
// same checkpoint with them (it never learned tau, so that is what they held).
TEST(LearnTau, CheckpointWithoutAlphaLoadsFromTheConfigsTau) {
  const test::TempDir dir;
  Config c = learned_config();
  c.learn_tau = false;
  Network net(c, Device::Cpu);
  Trainer trainer(net, OptimizerConfig{});
  train(trainer, 1, 2);
  save_checkpoint(dir.file("new.safetensors"), net, &trainer);
  const SafetensorsFile full = SafetensorsFile::read(dir.file("new.safetensors"));
  SafetensorsFile old;
  old.metadata = full.metadata;
  int dropped = 0;
  for (const std::string& name : full.names()) {
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".alpha") == 0) {
      ++dropped;
      continue;
    }
    if (full.dtype(name) == "F64") old.put(name, full.get<double>(name));
    else old.put(name, full.get<float>(name));
  }
  ASSERT_EQ(dropped, 3) << "params.alpha, optimizer.m.alpha, optimizer.v.alpha";
  old.write(dir.file("old.safetensors"));

  Checkpoint a = load_checkpoint(dir.file("new.safetensors"), Device::Cpu);
  Checkpoint b = load_checkpoint(dir.file("old.safetensors"), Device::Cpu);
  EXPECT_EQ(b.network.params().alpha, initial_alpha(c));
  EXPECT_EQ(b.trainer_state->m.alpha, std::vector<float>(c.dims[1], 0.0f));
  expect_same_bits(b.network.params(), a.network.params(), "old against new");
  Trainer ta(a.network, a.optimizer, a.loss_weights), tb(b.network, b.optimizer, b.loss_weights);
  ta.restore(*a.trainer_state);
  tb.restore(*b.trainer_state);
  train(ta, 3, 3);
  train(tb, 3, 3);
  expect_same_bits(b.network.params(), a.network.params(), "continued");
}

// A learned alpha written with set_params is clamped into its bounds; without learn_tau alpha
// cannot be written.
TEST(LearnTau, SetParamsClampsAlphaAndNeedsLearnTau) {
  Config c = learned_config();
  c.tau_max = 200;  // alpha >= 0.05
  Network net(c, Device::Cpu);
  const Tensor<float> given({1, 8}, std::vector<float>{0.01f, 0.1f, 0.5f, 1.0f, 1.5f, 0.3f, 0.2f, 0.7f});
  const View v = view_of(given);
  std::array<const View*, kNumParamArrays> src{};
  src[kAlpha] = &v;
  net.set_params(src);
  EXPECT_EQ(net.params().alpha, (std::vector<float>{float(c.alpha_min()), 0.1f, 0.5f, 1.0f, 1.0f, 0.3f, 0.2f, 0.7f}));
  c.learn_tau = false;
  Network fixed(c, Device::Cpu);
  test::expect_refused([&] { fixed.set_params(src); }, "parameter alpha");
}

// print_layers (`ctrnn info`): a learned alpha's range now, its bounds and tau's range.
TEST(LearnTau, PrintLayersShowsTheLearnedAlpha) {
  Config c = learned_config();
  c.tau_max = 400;
  Network net(c, Device::Cpu);
  std::ostringstream os;
  net.print_layers(os);
  EXPECT_NE(os.str().find("0.05 to 0.5 (learned, within [0.025, 1]; tau 20 to 200)"), std::string::npos) << os.str();
}

// ---- Bad values: one line naming the parameter

TEST(LearnTau, BadValuesAreRefused) {
  auto refused = [](const std::string& extra, const std::string& parameter, const std::string& found) {
    const std::string tau = extra.find("\"tau\"") == std::string::npos ? R"(, "tau": [20, 30, 40])" : "";
    const std::string json = R"({"dims": [1, 3, 1], "dt": 10)" + tau + extra + "}";
    try {
      config_from_json(json, ".");
      ADD_FAILURE() << json << " accepted";
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.parameter(), parameter) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_NE(what.find(found), std::string::npos) << what << " (expected to mention '" << found << "')";
    }
  };
  refused(R"(, "learn_tau": 1)", "learn_tau", "1");
  refused(R"(, "learn_tau": "yes")", "learn_tau", "yes");
  refused(R"(, "learn_tau": true, "tau_max": 30)", "tau_max", "network 0, neuron 2 has tau 40");
  refused(R"(, "tau_max": 10)", "tau_max", "> dt");
  refused(R"(, "tau_max": "long")", "tau_max", "a number");
  refused(R"(, "learn_tau": true, "tau_max": 5e3, "tau": 2e4)", "tau_max", "has tau 20000");
  refused(R"(, "learn_tau": true, "tau": 2e4)", "tau_max", "the default 10000");
  refused(R"(, "learn_tau": true, "tau_plasticity": [1, 1])", "tau_plasticity", "2 values");
  refused(R"(, "learn_tau": true, "tau_plasticity": [1, -0.5, 1])", "tau_plasticity", "-0.5 for neuron 1");
  refused(R"(, "learn_tau": true, "tau_plasticity": [[1, 1, 1]])", "tau_plasticity", "shape");
  refused(R"(, "tau_plasticity": [1, 1, 1])", "tau_plasticity", "learn_tau true");
  // and the accepted forms, written back as read
  const Config c = config_from_json(
      R"({"dims": [1, 3, 1], "tau": [20, 30, 40], "learn_tau": true, "tau_max": 400, "tau_plasticity": [1, 0, 2]})", ".");
  SafetensorsFile arrays;
  const Config back = config_from_json(config_to_json(c, arrays), ".", &arrays);
  EXPECT_TRUE(back.learn_tau);
  EXPECT_EQ(back.tau_max, 400.0);
  EXPECT_EQ(back.tau_plasticity, (std::vector<double>{1, 0, 2}));
  EXPECT_DOUBLE_EQ(back.alpha_min(), 10.0 / 400);
  const Config defaults = config_from_json(R"({"dims": [1, 3, 1]})", ".");
  EXPECT_FALSE(defaults.learn_tau);
  EXPECT_DOUBLE_EQ(defaults.tau_upper(), 1000 * defaults.dt);
  const std::string text = config_to_json(defaults, arrays);
  for (const char* key : {"learn_tau", "tau_max", "tau_plasticity"})  // the configs of runs before them
    EXPECT_EQ(text.find(key), std::string::npos) << key << " is written only when set";
}

// --resume: learn_tau, tau_max and tau_plasticity are part of the run, also when the config now
// leaves out a key the checkpoint's run set (a network key absent from one side differs).
TEST(LearnTau, ResumeTreatsTheKeysAsPartOfTheRun) {
  const detail::RunFields stored{{"dims", "[1,3,1]"}, {"learn_tau", "true"}, {"tau_max", "400.0"},
                                 {"training.lr", "0.001"}};
  detail::RunFields same = stored;
  EXPECT_NO_THROW(detail::check_same_run(stored, same, "the config has"));
  detail::RunFields other_bound = stored;
  other_bound[2].second = "500.0";
  test::expect_refused([&] { detail::check_same_run(stored, other_bound, "the config has"); }, "--resume");
  const detail::RunFields not_learned{{"dims", "[1,3,1]"}, {"training.lr", "0.001"}};
  test::expect_refused([&] { detail::check_same_run(stored, not_learned, "the config has"); }, "--resume");
  test::expect_refused([&] { detail::check_same_run(not_learned, stored, "the config has"); }, "--resume");
}

}  // namespace
}  // namespace ctrnn
