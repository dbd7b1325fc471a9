#pragma once
// Shared by the host orchestration tests and the GPU tests: random problems (config, masks,
// parameters, inputs, targets, gradients; never all zero) and one sequence that drives two
// backends through every virtual of Backend<float> and compares the results.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "constraints.hpp"
#include "initialize.hpp"
#include "kernels/philox.hpp"
#include "reference/ctrnn_reference.hpp"
#include "reference/loss_reference.hpp"
#include "test_util.hpp"

namespace ctrnn::test {

struct BackendCase {
  Activation activation = Activation::Tanh;
  int64_t E = 1, I = 3, H = 12, O = 2, T = 7, B = 3;
  bool masks = false;          // sparsity, Dale, plasticity and growth masks on all layers
  bool noise = false;          // pre- and post-activation noise
  bool biases = false;         // learned biases and a learned h0
  bool u_per_network = false;  // u (E, T, B, I) rather than (T, B, I)
  LossMask mask_shape = LossMask::None;
  bool regularizers = false;   // every loss term with a non-zero lambda
  // learned time constants, tau per neuron (alpha 0.05 to 0.5); with masks also tau_plasticity
  // (neuron 0 frozen, the others scaled from 0.1 to 2)
  bool learn_tau = false;
  uint64_t seed = 1;
};

inline std::string case_name(const BackendCase& c) {
  std::string s = to_string(c.activation) + "_E" + std::to_string(c.E) + "_H" + std::to_string(c.H) + "_B" +
                  std::to_string(c.B) + "_T" + std::to_string(c.T);
  if (c.masks) s += "_masks";
  if (c.noise) s += "_noise";
  if (c.biases) s += "_bias";
  if (c.u_per_network) s += "_uE";
  if (c.mask_shape == LossMask::TimeBatch) s += "_mTB";
  if (c.mask_shape == LossMask::TimeBatchOutput) s += "_mTBO";
  if (c.regularizers) s += "_reg";
  if (c.learn_tau) s += "_learntau";
  return s;
}

// gtest prints a failing parameter through this (instead of its bytes).
inline void PrintTo(const BackendCase& c, std::ostream* os) { *os << case_name(c); }

struct Problem {
  Config config;
  std::array<LayerConstraints<float>, 3> constraints;
  Params<float> params;
  std::vector<float> u, target, mask, gy, gr;
  LossWeights weights;
  int64_t mask_size = 0;
};

inline Array random_array(Shape shape, uint64_t seed, double lo, double hi) {
  Array a(shape);
  a.data = random_vector<double>(size_t(a.numel()), seed, lo, hi);
  return a;
}

inline Problem make_problem(const BackendCase& c) {
  Problem p;
  Config& cfg = p.config;
  cfg.dims = {c.I, c.H, c.O};
  cfg.ensemble_size = c.E;
  cfg.activation = c.activation;
  cfg.seed = c.seed;
  cfg.weights = all_layers(InitSpec::normal());
  if (c.biases) {
    cfg.biases = all_layers(InitSpec::uniform());
    cfg.init_state = InitState::Learn;
  }
  if (c.noise) cfg.preact_noise = 0.3, cfg.postact_noise = 0.05;
  if (c.learn_tau) {
    cfg.learn_tau = true;
    std::vector<double> tau;
    for (int64_t h = 0; h < c.H; ++h) tau.push_back(20.0 + 180.0 * double((h * 5) % c.H) / double(c.H));
    cfg.tau = TimeConstants::each_neuron(tau);
    if (c.masks) {
      cfg.tau_plasticity = random_vector<double>(size_t(c.H), c.seed + 21, 0.1, 2.0);
      cfg.tau_plasticity[0] = 0;
    }
  }
  if (c.masks) {
    for (int l = 0; l < 3; ++l) {
      const auto s = cfg.layer_shape(Layer(l));
      const uint64_t k = c.seed * 100 + l * 10;
      Array sparsity = random_array({s[0], s[1]}, k + 1, 0, 1);
      for (double& x : sparsity.data) x = x < 0.7 ? 1 : 0;
      Array ei({s[0], s[1]});
      for (int64_t i = 0; i < s[0]; ++i)
        for (int64_t j = 0; j < s[1]; ++j) ei.data[i * s[1] + j] = i < (s[0] * 8 + 9) / 10 ? 1 : -1;
      cfg.sparsity_masks[l] = sparsity;
      cfg.ei_masks[l] = ei;
      cfg.plasticity_masks[l] = random_array({s[0], s[1]}, k + 2, 0.1, 2.0);
      cfg.synapse_growth_masks[l] = random_array({s[0], s[1]}, k + 3, 0, 0.3);
    }
  }
  cfg.validate();
  p.constraints = build_constraints<float>(cfg);
  p.params = initial_params<float>(cfg, p.constraints);
  if (c.biases)  // a non-zero learned h0, as training would leave it
    p.params.h0 = random_vector<float>(p.params.h0.size(), c.seed + 7, -0.5, 0.5);
  const int64_t E = c.E, T = c.T, B = c.B;
  p.u = random_vector<float>(size_t((c.u_per_network ? E : 1) * T * B * c.I), c.seed + 11, -1.5, 1.5);
  p.target = random_vector<float>(size_t(E * T * B * c.O), c.seed + 12);
  p.gy = random_vector<float>(size_t(E * T * B * c.O), c.seed + 13);
  p.gr = random_vector<float>(size_t(E * T * B * c.H), c.seed + 14, -0.2, 0.2);
  if (c.mask_shape != LossMask::None) {
    p.mask_size = c.mask_shape == LossMask::TimeBatch ? T * B : T * B * c.O;
    p.mask = random_vector<float>(size_t(p.mask_size), c.seed + 15, 0, 1);
    for (size_t i = 0; i < p.mask.size(); i += 3) p.mask[i] = 0;  // ignored entries, as in fixation periods
  }
  if (c.regularizers) {
    p.weights[kLossIn] = 0.1, p.weights[kLossHid] = 0.2, p.weights[kLossOut] = 0.3;
    p.weights[kLossFr] = 0.4, p.weights[kLossFrSd] = 0.5, p.weights[kLossFrCv] = 0.6;
  }
  return p;
}

// The network's alpha (a parameter) from the config's tau, after a test changed the tau.
inline void alpha_from_config(Problem& p) {
  const std::vector<double> alpha = p.config.alpha();
  p.params.alpha.assign(alpha.begin(), alpha.end());
}

// The state every backend test starts from: the problem's constraints, then its parameters.
inline void load_problem(detail::Backend<float>& b, const Problem& p) {
  b.set_constraints(p.constraints);
  b.set_params(p.params);
}

inline detail::ForwardArgs<float> forward_args(const BackendCase& c, const Problem& p, uint64_t call,
                                               detail::InitialState initial, bool keep) {
  detail::ForwardArgs<float> a;
  a.u = p.u.data();
  a.u_per_network = c.u_per_network;
  a.steps = c.T;
  a.batch = c.B;
  a.initial = initial;
  a.dynamics = p.config.dynamics(true);
  a.seed = p.config.seed;
  a.call = call;
  a.keep_final_state = keep;
  return a;
}

inline detail::LossArgs<float> loss_args(const BackendCase& c, const Problem& p, const std::vector<float>& target) {
  detail::LossArgs<float> a;
  a.target = target.data();
  a.target_per_network = int64_t(target.size()) == c.E * c.T * c.B * c.O && c.E > 1;
  a.mask = p.mask.empty() ? nullptr : p.mask.data();
  a.mask_shape = c.mask_shape;
  a.weights = p.weights;
  return a;
}

// A host vector full of NaN: whatever the backend does not write stays NaN and fails the check.
inline std::vector<float> poisoned(int64_t n) { return std::vector<float>(size_t(n), std::numeric_limits<float>::quiet_NaN()); }

// With CTRNN_TEST_DEVIATIONS=1 in the environment (scripts/gpu-check.sh), every comparison prints
// its largest deviation relative to the array's scale, passing or not, as
//   [ deviation ] <test> <largest |a - e| / max|e|> (tolerance <rel>)
template <class A, class E>
void report_deviation(const std::vector<A>& actual, const std::vector<E>& expected, double scale, double rel) {
  static const bool on = [] {
    const char* v = std::getenv("CTRNN_TEST_DEVIATIONS");
    return v && *v && std::string(v) != "0";
  }();
  if (!on || actual.size() != expected.size()) return;
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double d = std::abs(double(actual[i]) - double(expected[i]));
    worst = std::isnan(d) ? d : std::max(worst, d);
    if (std::isnan(worst)) break;
  }
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::cout << "[ deviation ] " << (info ? std::string(info->test_suite_name()) + "." + info->name() : "?") << " "
            << (scale > 0 ? worst / scale : worst) << " (tolerance " << rel << ")\n";
}

// |a - e| <= rel (max|e| + |e|): `rel` relative to the array's scale, so a sum that cancels to near
// zero is judged by the size of what was summed, not by its own tiny size.
inline ::testing::AssertionResult close_to(const std::vector<float>& actual, const std::vector<float>& expected, double rel) {
  double scale = 0;
  for (float x : expected) scale = std::max(scale, double(std::abs(x)));
  report_deviation(actual, expected, scale, rel);
  return all_close(actual, expected, rel * scale, rel);
}
inline ::testing::AssertionResult close_to(const std::vector<double>& actual, const std::vector<double>& expected, double rel) {
  double scale = 0;
  for (double x : expected) scale = std::max(scale, std::abs(x));
  report_deviation(actual, expected, scale, rel);
  return all_close(actual, expected, rel * scale, rel);
}

struct Tolerances {
  double forward;    // y, r, kept state
  double gradient;   // BPTT gradients, loss terms, gradient norms
  double parameter;  // parameters and optimizer state after a few steps
};

// The GPU tests' tolerances (the CUDA backend on any recurrence path against the CPU backend),
// relative to each array's scale. First estimated without a device (2026-11-28, the reasoning
// below), then checked on an H200 (2026-12-04, scripts/gpu-check.sh, bench/RESULTS.md): of 1159
// comparisons most cases' worst element was ~1e-6 of its array's scale, forwards and gradients
// all within their estimates, and two single elements of parameters after training beyond 2e-4:
// 5.1e-4 (SGD's momentum, i.e. a gradient sum of T B = 6400 terms that cancels, at E8 H64 B64
// T100 with noise) and 4.7e-4 (w_hid after three Adam steps with retanh: Adam divides a gradient
// element by its own size, so a near-zero element's rounding becomes a full step); hence 1e-3.
// The GPU differs from the CPU backend by summation order (cuBLAS blocks and splits the K sums
// of up to 1024 terms), fused multiply-adds, and CUDA's tanhf/expf/logf/sinf/cosf (within 2 ulp
// of glibc's): ~sqrt(K) roundings (3e-6 of the scale at K = 1024) per step, carried through up to
// 100 leaky steps whose Jacobian (1 - alpha) I + alpha W f' has spectral radius near 1, so they
// accumulate like a random walk to ~3e-5. Forward 1e-4; gradients, which add a sum over up to
// T B = 6400 products and run the recurrence backward, 5e-4; parameters after three SGD/Adam
// steps 1e-3 (above). (The host run of the same sequence, same arithmetic, measured 2e-6 at
// H = 12, T = 7.)
// ReLU and retanh have a kink at 0: a v_t within rounding of 0 may take the other branch of f' on
// the GPU, so those activations get the cases with fewer elements (E T B H <= ~2e4).
inline constexpr Tolerances kGpuTolerances{1e-4, 5e-4, 1e-3};

inline void expect_params_close(const Params<float>& a, const Params<float>& b, double rel, const std::string& what) {
  const auto pa = a.arrays();
  const auto pb = b.arrays();
  for (size_t k = 0; k < pa.size(); ++k) EXPECT_TRUE(close_to(*pa[k], *pb[k], rel)) << what << " " << kParamNames[k];
}

// Drives `test` and `ref` (the CPU backend) through the same calls: forward (with noise when the
// case has it), read_forward, loss, backward_from_loss, backward with direct dL/dr, three
// optimizer steps (Adam with clipping and weight decay, then SGD with momentum; SGD only when
// `adam` is false) each followed by synapse growth, and keep mode. Every read goes into a
// NaN-filled host array.
// Why SGD only for large problems: Adam's update is lr * m / (sqrt(v) + eps), on the first step
// lr * sign(g). A gradient entry that cancels to within rounding of 0 may get opposite signs in
// two correct implementations and so parameters 2 lr apart; among millions of entries one such
// entry is likely. SGD's update is continuous in g.
inline void compare_backends(detail::Backend<float>& test, detail::Backend<float>& ref, const BackendCase& c,
                             const Problem& p, const Tolerances& tol, bool adam = true) {
  const int64_t E = c.E, T = c.T, B = c.B, H = c.H, O = c.O;
  for (detail::Backend<float>* b : {&test, &ref}) {
    load_problem(*b, p);
  }
  const detail::InitialState initial = c.biases ? detail::InitialState::H0 : detail::InitialState::Zero;

  // Forward
  for (detail::Backend<float>* b : {&test, &ref}) b->forward(forward_args(c, p, 3, initial, false));
  std::vector<float> y_test = poisoned(E * T * B * O), r_test = poisoned(E * T * B * H);
  std::vector<float> y_ref = poisoned(E * T * B * O), r_ref = poisoned(E * T * B * H);
  test.read_forward(y_test.data(), r_test.data());
  ref.read_forward(y_ref.data(), r_ref.data());
  EXPECT_TRUE(close_to(y_test, y_ref, tol.forward)) << "y";
  EXPECT_TRUE(close_to(r_test, r_ref, tol.forward)) << "r";

  // Loss and its gradients (shared target in the first, per-network in the second half)
  const std::vector<float> shared_target(p.target.begin(), p.target.begin() + T * B * O);
  const std::vector<double> terms_test = test.loss(loss_args(c, p, shared_target));
  const std::vector<double> terms_ref = ref.loss(loss_args(c, p, shared_target));
  EXPECT_TRUE(close_to(terms_test, terms_ref, tol.gradient)) << "loss terms";
  for (double x : terms_test) EXPECT_TRUE(std::isfinite(x)) << "loss term";
  test.backward_from_loss();
  ref.backward_from_loss();
  Gradients<float> g_test, g_ref;
  test.read_gradients(g_test);
  ref.read_gradients(g_ref);
  expect_params_close(g_test, g_ref, tol.gradient, "gradient from the loss");

  // BPTT from given dL/dy and dL/dr, with the input gradient dL/du (shaped as u)
  std::vector<float> du_test = poisoned(int64_t(p.u.size())), du_ref = poisoned(int64_t(p.u.size()));
  test.backward(p.gy.data(), p.gr.data(), du_test.data());
  ref.backward(p.gy.data(), p.gr.data(), du_ref.data());
  EXPECT_TRUE(close_to(du_test, du_ref, tol.gradient)) << "input gradient du";
  test.read_gradients(g_test);
  ref.read_gradients(g_ref);
  expect_params_close(g_test, g_ref, tol.gradient, "gradient of backward(gy, gr)");
  test.backward(p.gy.data(), nullptr);
  ref.backward(p.gy.data(), nullptr);
  test.read_gradients(g_test);
  ref.read_gradients(g_ref);
  expect_params_close(g_test, g_ref, tol.gradient, "gradient of backward(gy)");

  // Training: forward, loss (per-network target), backward, optimizer step, growth
  OptimizerConfig adam_config;
  adam_config.lr = 1e-2;
  adam_config.weight_decay = 1e-3;
  adam_config.clip_grad_norm = 0.5;
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  sgd.lr = 5e-2;
  sgd.momentum = 0.9;
  sgd.weight_decay = 1e-3;
  sgd.clip_grad_norm = 0.5;
  for (int64_t step = 1; step <= 3; ++step) {
    const OptimizerConfig& opt = step < 3 && adam ? adam_config : sgd;
    for (detail::Backend<float>* b : {&test, &ref}) {
      b->forward(forward_args(c, p, 10 + step, initial, false));
      b->loss(loss_args(c, p, p.target));
      b->backward_from_loss();
    }
    const std::vector<double> n_test = test.optimizer_step(opt, step), n_ref = ref.optimizer_step(opt, step);
    EXPECT_TRUE(close_to(n_test, n_ref, tol.gradient)) << "gradient norms at step " << step;
    test.grow_synapses(p.config.seed + 5, step);
    ref.grow_synapses(p.config.seed + 5, step);
    std::array<std::vector<float>, 3> s_test, s_ref;
    test.get_sparsity(s_test);
    ref.get_sparsity(s_ref);
    for (int l = 0; l < 3; ++l) EXPECT_EQ(s_test[l], s_ref[l]) << "sparsity of layer " << l << " after step " << step;
  }
  // Training steps as one call each (train_step: forward, loss, BPTT, update; one graph on the GPU)
  for (int64_t step = 4; step <= 5; ++step) {
    const OptimizerConfig& opt = adam ? adam_config : sgd;
    const detail::StepResult s_test = test.train_step(forward_args(c, p, 10 + step, initial, false),
                                                      loss_args(c, p, p.target), opt, step);
    const detail::StepResult s_ref = ref.train_step(forward_args(c, p, 10 + step, initial, false),
                                                    loss_args(c, p, p.target), opt, step);
    const std::vector<uint8_t> none(size_t(c.E), 0);
    EXPECT_TRUE(s_test.diverged == none && s_ref.diverged == none) << "training step " << step;
    EXPECT_TRUE(close_to(s_test.terms, s_ref.terms, tol.gradient)) << "loss terms of training step " << step;
    EXPECT_TRUE(close_to(s_test.grad_norm, s_ref.grad_norm, tol.gradient)) << "norms of training step " << step;
  }
  Params<float> p_test, p_ref;
  test.get_params(p_test);
  ref.get_params(p_ref);
  expect_params_close(p_test, p_ref, tol.parameter, "params after training");
  OptimizerState<float> o_test, o_ref;
  test.get_optimizer_state(o_test);
  ref.get_optimizer_state(o_ref);
  expect_params_close(o_test.m, o_ref.m, tol.parameter, "optimizer m");
  expect_params_close(o_test.v, o_ref.v, tol.parameter, "optimizer v");
  // Constraints still hold on the trained weights (the sparsity mask as grown)
  std::array<std::vector<float>, 3> grown;
  test.get_sparsity(grown);
  for (int l = 0; l < 3; ++l) {
    const auto& w = p_test.weight(Layer(l));
    for (size_t i = 0; i < w.size(); ++i) {
      if (!grown[l].empty() && grown[l][i] == 0) EXPECT_EQ(w[i], 0.0f) << "masked, layer " << l << " entry " << i;
      if (p.constraints[l].has_ei()) {
        const float ei = p.constraints[l].ei[i];
        if (ei > 0) EXPECT_GE(w[i], 0.0f) << "Dale, layer " << l << " entry " << i;
        if (ei < 0) EXPECT_LE(w[i], 0.0f) << "Dale, layer " << l << " entry " << i;
      }
    }
  }

  // write_params: arrays that break the masks (the initial weights plus small noise, so that the
  // keep-mode run below stays as tame) are written and projected; the arrays not given keep
  // their values. Copies and the projection are exact, so both backends agree bit for bit.
  {
    std::vector<float> w_hid = random_vector<float>(p.params.w_hid.size(), c.seed + 21, -0.05, 0.05),
                       w_out = random_vector<float>(p.params.w_out.size(), c.seed + 22, -0.05, 0.05);
    for (size_t i = 0; i < w_hid.size(); ++i) w_hid[i] += p.params.w_hid[i];
    for (size_t i = 0; i < w_out.size(); ++i) w_out[i] += p.params.w_out[i];
    std::array<detail::Located<const float>, kNumParamArrays> src{};
    src[kWHid] = w_hid.data();
    src[kWOut] = w_out.data();
    for (detail::Backend<float>* b : {&test, &ref}) b->write_params(src);
    Params<float> w_test, w_ref;
    test.get_params(w_test);
    ref.get_params(w_ref);
    const auto a_test = w_test.arrays(), a_ref = w_ref.arrays(), before = p_test.arrays();
    for (int k = 0; k < kNumParamArrays; ++k)
      if (src[k]) EXPECT_EQ(*a_test[k], *a_ref[k]) << "written by write_params: " << kParamNames[k];
      else EXPECT_EQ(*a_test[k], *before[k]) << "not written by write_params: " << kParamNames[k];
    std::vector<float> projected = w_hid;
    LayerConstraints<float> now = p.constraints[kWHid];
    now.sparsity = grown[kWHid];  // as grown by the training steps
    project_weights(projected, now);
    EXPECT_EQ(w_test.w_hid, projected) << "write_params projects what it writes";
  }

  // Keep mode: two calls carrying v_T, the kept state read back, then set and reused
  for (detail::Backend<float>* b : {&test, &ref}) {
    b->set_kept_state({}, 0);
    b->forward(forward_args(c, p, 20, detail::InitialState::Zero, true));
    b->forward(forward_args(c, p, 21, detail::InitialState::Kept, true));
  }
  std::vector<float> k_test, k_ref;
  test.get_kept_state(k_test);
  ref.get_kept_state(k_ref);
  // Forwards on the trained parameters, which differ by up to tol.parameter.
  const double trained = std::max(tol.forward, tol.parameter);
  EXPECT_TRUE(close_to(k_test, k_ref, trained)) << "kept state";
  const std::vector<float> kept = random_vector<float>(size_t(E * B * H), c.seed + 21);
  for (detail::Backend<float>* b : {&test, &ref}) {
    b->set_kept_state(kept, B);
    b->forward(forward_args(c, p, 22, detail::InitialState::Kept, false));
  }
  y_test = poisoned(E * T * B * O), y_ref = poisoned(E * T * B * O);
  test.read_forward(y_test.data(), nullptr);
  ref.read_forward(y_ref.data(), nullptr);
  EXPECT_TRUE(close_to(y_test, y_ref, trained)) << "y from a set kept state";
}

template <class D, class S>
std::vector<D> cast(const std::vector<S>& v) {
  return std::vector<D>(v.begin(), v.end());
}

// Forward (with noise), loss with every term and BPTT of `host` against the reference evaluated
// in double on the same (float) parameters, with the noise drawn through RandomStream's
// documented addressing (the backend's kernels draw it themselves): this checks the noise
// addressing too.
// tau per network and neuron (alpha 0.05 to 0.5) and, with noise, sigmas per network (network e's
// pre-activation sigma 0.3 / (e + 1), post-activation 0.05 (e + 1)): what the comparison with the
// double reference runs, so that it checks each network's alpha of each neuron and each
// network's sigmas. (compare_backends keeps one value for all: its optimizer steps switch from SGD
// to Adam on SGD's momentum buffer, whose first Adam update divides by a tiny sqrt(v) and turns
// rounding differences of a few 1e-7 into 1e-5 of the parameter for some data.)
inline Problem with_per_network_dynamics(Problem p, const BackendCase& c) {
  std::vector<double> pre, post;
  std::vector<std::vector<double>> tau(static_cast<size_t>(c.E));
  for (int64_t e = 0; e < c.E; ++e) {
    pre.push_back(0.3 / double(e + 1)), post.push_back(0.05 * double(e + 1));
    for (int64_t h = 0; h < c.H; ++h) tau[size_t(e)].push_back(20.0 + 180.0 * double((h * 5 + e) % c.H) / double(c.H));
  }
  p.config.tau = TimeConstants::each_network_neuron(tau);
  if (c.noise) p.config.preact_noise = PerNetwork::each(pre), p.config.postact_noise = PerNetwork::each(post);
  p.config.validate();
  alpha_from_config(p);
  return p;
}

inline void compare_with_double_reference(detail::Backend<float>& host, const BackendCase& c, const Problem& given,
                                          const Tolerances& tol) {
  const Problem p = with_per_network_dynamics(given, c);
  const int64_t E = c.E, T = c.T, B = c.B, H = c.H, O = c.O;
  load_problem(host, p);
  const uint64_t call = 5;
  const auto initial = c.biases ? detail::InitialState::H0 : detail::InitialState::Zero;
  host.forward(forward_args(c, p, call, initial, false));
  std::vector<float> y = poisoned(E * T * B * O), r = poisoned(E * T * B * H);
  host.read_forward(y.data(), r.data());

  // The reference in double
  Params<double> pd = Params<double>::zeros(E, c.I, H, O);
  {
    auto dst = pd.arrays();
    auto src = p.params.arrays();
    for (size_t k = 0; k < dst.size(); ++k) *dst[k] = cast<double>(*src[k]);
  }
  std::vector<double> pre, post, v0(E * B * H, 0.0);
  if (c.noise) {
    pre.resize(E * T * B * H), post.resize(E * T * B * H);
    for (int64_t e = 0; e < E; ++e)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < B * H; ++i) {
          pre[(e * T + t) * B * H + i] = RandomStream(c.seed, RandomPurpose::PreactNoise, uint32_t(e), uint32_t(t), call).normal(uint32_t(i));
          post[(e * T + t) * B * H + i] = RandomStream(c.seed, RandomPurpose::PostactNoise, uint32_t(e), uint32_t(t), call).normal(uint32_t(i));
        }
  }
  if (c.biases)
    for (int64_t e = 0; e < E; ++e)
      for (int64_t i = 0; i < B * H; ++i) v0[e * B * H + i] = pd.h0[e * H + i % H];
  const Dynamics dyn = p.config.dynamics(true);
  const std::vector<double> ud = cast<double>(p.u);
  const auto tr = reference::forward(pd, dyn, ud.data(), c.u_per_network, T, B, v0.data(),
                                     pre.empty() ? nullptr : pre.data(), post.empty() ? nullptr : post.data());
  std::vector<double> r_ref(E * T * B * H);
  for (int64_t e = 0; e < E; ++e) std::copy(tr.r_at(e, 1), tr.r_at(e, 1) + T * B * H, &r_ref[e * T * B * H]);
  // Float against double: the float run's own rounding only (see tol).
  EXPECT_TRUE(close_to(cast<double>(y), tr.y, tol.forward)) << "y";
  EXPECT_TRUE(close_to(cast<double>(r), r_ref, tol.forward)) << "r";

  // Loss with every term, per-network target
  const std::vector<double> target = cast<double>(p.target), mask = cast<double>(p.mask);
  const auto ref_loss = reference::loss(pd, tr, target.data(), E > 1, mask.empty() ? nullptr : mask.data(),
                                        c.mask_shape, p.weights);
  const std::vector<double> terms = host.loss(loss_args(c, p, p.target));
  EXPECT_TRUE(close_to(terms, ref_loss.terms, tol.gradient)) << "loss terms";
  host.backward_from_loss();
  Gradients<float> g;
  host.read_gradients(g);
  Gradients<double> g_ref = reference::backward(pd, dyn, ud.data(), c.u_per_network, tr, ref_loss.gy.data(),
                                                ref_loss.gr.data(), static_cast<double*>(nullptr), c.learn_tau);
  for (int l = 0; l < 3; ++l) {
    auto& w = g_ref.weight(Layer(l));
    for (size_t i = 0; i < w.size(); ++i) w[i] += ref_loss.direct.weight(Layer(l))[i];
  }
  const auto ga = g.arrays();
  const auto gb = g_ref.arrays();
  for (int k = 0; k < kNumParamArrays; ++k)
    if (!param_learned(p.config, k)) std::fill(gb[k]->begin(), gb[k]->end(), 0.0);
  for (size_t k = 0; k < ga.size(); ++k)
    EXPECT_TRUE(close_to(cast<double>(*ga[k]), *gb[k], tol.gradient)) << kParamNames[k];
}

}  // namespace ctrnn::test

namespace ctrnn::test {

// Divergence is per network (docs/contract.md "Optimizers"): in an ensemble of three, network 1
// diverges, by a non-finite loss (an Inf in its target) or, with a finite loss, by an update that
// would overflow (Adam with weight decay 1 and one input weight of 1e22, which tanh saturates:
// its gradient is 1e22, and the second moment's (1 - beta2) g^2 overflows). It is frozen at its
// last good values from then on, through later good steps, while networks 0 and 2 equal, bit for
// bit, the same ensemble trained on good data (each network's sums are its own).
template <class MakeBackend>
void expect_divergence_is_per_network(MakeBackend&& make) {
  BackendCase c;
  c.E = 3, c.T = 5, c.B = 2;
  ASSERT_EQ(c.activation, Activation::Tanh);
  for (const bool by_update : {false, true}) {
    SCOPED_TRACE(by_update ? "an overflowing update" : "a non-finite loss");
    const Problem base = make_problem(c);
    Problem p = base;  // the diverging run's
    std::vector<float> bad = p.target;
    OptimizerConfig opt;
    if (by_update) {
      opt.weight_decay = 1;
      p.params.w_in[size_t(c.I * c.H)] = 1e22f;  // network 1's first input weight
    } else {
      bad[size_t(c.T * c.B * c.O + 3)] = std::numeric_limits<float>::infinity();
    }
    auto diverging = make(p.config), good = make(p.config);
    load_problem(*diverging, p);
    load_problem(*good, base);
    EXPECT_EQ(diverging->diverged(), std::vector<uint8_t>(3, 0));
    for (int64_t step = 1; step <= 4; ++step) {  // on the GPU: step 3 captures a graph, step 4 replays it
      const auto f = forward_args(c, p, uint64_t(step), detail::InitialState::Zero, false);
      const detail::StepResult a = diverging->train_step(f, loss_args(c, p, step == 1 ? bad : p.target), opt, step);
      if (by_update && step == 1) EXPECT_TRUE(std::isfinite(a.terms[kNumLossTerms])) << "network 1's loss is finite";
      const detail::StepResult b = good->train_step(f, loss_args(c, p, p.target), opt, step);
      EXPECT_EQ(a.diverged, (std::vector<uint8_t>{0, 1, 0})) << "step " << step;
      EXPECT_EQ(b.diverged, std::vector<uint8_t>(3, 0)) << "step " << step;
      for (int64_t e : {0, 2}) EXPECT_EQ(a.grad_norm[size_t(e)], b.grad_norm[size_t(e)]) << "step " << step;
    }
    EXPECT_EQ(diverging->diverged(), (std::vector<uint8_t>{0, 1, 0}));
    Params<float> pa, pb;
    OptimizerState<float> oa, ob;
    diverging->get_params(pa), good->get_params(pb);
    diverging->get_optimizer_state(oa), good->get_optimizer_state(ob);
    const auto a = pa.arrays(), b = pb.arrays(), initial = p.params.arrays(), ma = oa.m.arrays(), mb = ob.m.arrays();
    for (int k = 0; k < kNumParamArrays; ++k) {
      const size_t n = a[k]->size() / 3;
      auto slice = [&](const std::vector<float>& x, int64_t e) {
        return std::vector<float>(x.begin() + e * n, x.begin() + (e + 1) * n);
      };
      for (int64_t e : {0, 2}) {
        EXPECT_EQ(slice(*a[k], e), slice(*b[k], e)) << kParamNames[k] << " of network " << e;
        EXPECT_EQ(slice(*ma[k], e), slice(*mb[k], e)) << "moment of " << kParamNames[k] << ", network " << e;
      }
      EXPECT_EQ(slice(*a[k], 1), slice(*initial[k], 1)) << kParamNames[k] << " of the frozen network";
      EXPECT_EQ(slice(*ma[k], 1), std::vector<float>(n, 0.0f)) << "moment of the frozen network's " << kParamNames[k];
    }
    EXPECT_NE(std::vector<float>(pa.w_hid.begin(), pa.w_hid.begin() + c.H * c.H),
              std::vector<float>(p.params.w_hid.begin(), p.params.w_hid.begin() + c.H * c.H))
        << "network 0 trained";
    // The flags are state: set_diverged restores them (a checkpoint's), and a wrong count is refused.
    diverging->set_diverged({1, 0, 0});
    EXPECT_EQ(diverging->diverged(), (std::vector<uint8_t>{1, 0, 0}));
    EXPECT_THROW(diverging->set_diverged({0, 0}), InvalidArgument);
  }
}

}  // namespace ctrnn::test

namespace ctrnn::test {

// Per-network optimizer values and loss weights (PerNetwork): in an ensemble of three with its own
// lr, weight decay, momentum, clipping and lambdas per network (some lambdas 0 for one network
// only), network k equals, bit for bit, network k of the same ensemble given network k's values
// for all three (same backend: the same sums in the same order; only which terms are computed for
// the others differs, and a term a network does not use adds exact zeros to it).
template <class MakeBackend>
void expect_per_network_values_equal_uniform_runs(MakeBackend&& make) {
  BackendCase c;
  c.E = 3, c.T = 6, c.B = 3, c.biases = true, c.regularizers = true;
  const Problem p = make_problem(c);
  for (const auto kind : {OptimizerConfig::Kind::Adam, OptimizerConfig::Kind::SGD}) {
    SCOPED_TRACE(to_string(kind));
    OptimizerConfig mixed;
    mixed.kind = kind;
    mixed.lr = PerNetwork::each({1e-2, 3e-2, 5e-3});
    mixed.weight_decay = PerNetwork::each({0, 1e-2, 1e-3});
    mixed.momentum = PerNetwork::each({0, 0.9, 0.5});
    mixed.clip_grad_norm = PerNetwork::each({0, 0.05, 1});
    LossWeights w = p.weights;
    w[kMse] = PerNetwork::each({1, 0.5, 2});
    w[kLossIn] = PerNetwork::each({0.1, 0, 0.3});
    w[kLossFr] = PerNetwork::each({0, 0.4, 0.2});
    w[kLossFrSd] = PerNetwork::each({0.5, 0, 0});
    w[kLossFrCv] = PerNetwork::each({0, 0, 0.6});
    auto uniform = [&](int64_t k) {  // network k's values for every network
      OptimizerConfig o = mixed;
      o.lr = o.lr[k], o.weight_decay = o.weight_decay[k], o.momentum = o.momentum[k];
      o.clip_grad_norm = o.clip_grad_norm[k];
      LossWeights u = w;
      for (PerNetwork& x : u.lambda) x = x[k];
      return std::make_pair(o, u);
    };
    auto run = [&](const OptimizerConfig& o, const LossWeights& lw, Params<float>& params, OptimizerState<float>& s) {
      auto b = make(p.config);
      load_problem(*b, p);
      std::vector<detail::StepResult> steps;
      for (int64_t step = 1; step <= 4; ++step) {
        detail::LossArgs<float> l = loss_args(c, p, p.target);
        l.weights = lw;
        steps.push_back(b->train_step(forward_args(c, p, uint64_t(step), detail::InitialState::H0, false), l, o, step));
      }
      b->get_params(params);
      b->get_optimizer_state(s);
      return steps;
    };
    Params<float> pm;
    OptimizerState<float> sm;
    const std::vector<detail::StepResult> rm = run(mixed, w, pm, sm);
    for (int64_t k = 0; k < 3; ++k) {
      SCOPED_TRACE("network " + std::to_string(k));
      Params<float> pu;
      OptimizerState<float> su;
      const auto [o, lw] = uniform(k);
      const std::vector<detail::StepResult> ru = run(o, lw, pu, su);
      for (size_t s = 0; s < rm.size(); ++s) {
        for (int t = 0; t < kNumLossTerms; ++t)
          EXPECT_EQ(rm[s].terms[size_t(k * kNumLossTerms + t)], ru[s].terms[size_t(k * kNumLossTerms + t)])
              << "term " << kLossTermNames[t] << ", step " << s + 1;
        EXPECT_EQ(rm[s].grad_norm[size_t(k)], ru[s].grad_norm[size_t(k)]) << "step " << s + 1;
      }
      const auto a = pm.arrays(), b = pu.arrays(), ma = sm.m.arrays(), mb = su.m.arrays(), va = sm.v.arrays(),
                 vb = su.v.arrays();
      for (int q = 0; q < kNumParamArrays; ++q) {
        const size_t n = a[q]->size() / 3;
        auto slice = [&](const std::vector<float>& x) { return std::vector<float>(x.begin() + k * n, x.begin() + (k + 1) * n); };
        EXPECT_EQ(slice(*a[q]), slice(*b[q])) << kParamNames[q];
        EXPECT_EQ(slice(*ma[q]), slice(*mb[q])) << "m of " << kParamNames[q];
        EXPECT_EQ(slice(*va[q]), slice(*vb[q])) << "v of " << kParamNames[q];
      }
    }
    // The values differ enough to matter: network 0 of the mixed run is not network 0 of network 1's.
    Params<float> p1;
    OptimizerState<float> s1;
    const auto [o1, w1] = uniform(1);
    run(o1, w1, p1, s1);
    EXPECT_NE(std::vector<float>(pm.w_hid.begin(), pm.w_hid.begin() + c.H * c.H),
              std::vector<float>(p1.w_hid.begin(), p1.w_hid.begin() + c.H * c.H));
  }
}

}  // namespace ctrnn::test

namespace ctrnn::test {

// Network k of an ensemble, alone (docs/contract.md "Parameters", first_network): an ensemble of
// three with growth, its own time constants (one per network, then one per network and neuron,
// then those learned, with tau_max and tau_plasticity), noise sigmas (one network without each noise), optimizer values and lambdas per network, and,
// for each k, a one-network run configured to draw as network k (first_network = k) with network
// k's values and target. Initial parameters, losses, gradient norms, parameters, moments and
// grown masks agree bit for bit after four training steps (same backend type; `make` fixes the
// thread count where there are threads, so each network's sums run in the same order in both).
template <class MakeBackend>
void expect_network_k_equals_its_one_network_run(MakeBackend&& make, bool tau_per_neuron, bool learn_tau) {
  BackendCase c;
  c.E = 3, c.T = 6, c.B = 3, c.noise = true, c.masks = true, c.biases = true, c.regularizers = true;
  Problem p = make_problem(c);
  std::vector<std::vector<double>> tau(3);  // dt = 10: alpha from 1 (tau = 10) down to 0.05
  for (int64_t e = 0; e < 3; ++e)
    for (int64_t h = 0; h < c.H; ++h) tau[size_t(e)].push_back(tau_per_neuron ? 10.0 + 190.0 * double((h * 7 + e * 3) % c.H) / double(c.H - 1) : 20.0 + 30.0 * double(e));
  p.config.tau = tau_per_neuron ? TimeConstants::each_network_neuron(tau)
                                : TimeConstants::each_network({tau[0][0], tau[1][0], tau[2][0]});
  p.config.preact_noise = PerNetwork::each({0.3, 0, 0.1});
  p.config.postact_noise = PerNetwork::each({0.05, 0.02, 0});
  if (learn_tau) {  // learned, with a bound that the slowest neurons (alpha 0.05) can reach, and one frozen
    p.config.learn_tau = true;
    p.config.tau_max = 250;
    p.config.tau_plasticity = random_vector<double>(size_t(c.H), 77, 0.5, 1.5);
    p.config.tau_plasticity[1] = 0;
  }
  p.config.validate();
  alpha_from_config(p);
  OptimizerConfig mixed;
  mixed.lr = PerNetwork::each({1e-2, 3e-2, 5e-3});
  mixed.weight_decay = PerNetwork::each({0, 1e-2, 1e-3});
  mixed.clip_grad_norm = PerNetwork::each({0, 0.05, 1});
  LossWeights w = p.weights;
  w[kLossFr] = PerNetwork::each({0, 0.4, 0.2});
  w[kLossIn] = PerNetwork::each({0.1, 0, 0.3});
  // Steps 1..4 of backend b on problem q: each step's result, then the state.
  struct Run {
    std::vector<detail::StepResult> steps;
    Params<float> params;
    OptimizerState<float> opt;
    std::array<std::vector<float>, 3> sparsity;
  };
  auto run = [&](const BackendCase& bc, const Problem& q, const OptimizerConfig& o, const LossWeights& lw) {
    auto b = make(q.config);
    load_problem(*b, q);
    Run r;
    for (int64_t step = 1; step <= 4; ++step) {
      detail::LossArgs<float> l = loss_args(bc, q, q.target);
      l.weights = lw;
      r.steps.push_back(b->train_step(forward_args(bc, q, uint64_t(step), detail::InitialState::H0, false), l, o, step));
      b->grow_synapses(q.config.seed, step);
    }
    b->get_params(r.params);
    b->get_optimizer_state(r.opt);
    b->get_sparsity(r.sparsity);
    return r;
  };
  const Run ensemble = run(c, p, mixed, w);
  if (learn_tau) {  // alpha was learned (so the comparisons below check its path), except neuron 1's
    EXPECT_NE(ensemble.params.alpha, p.params.alpha);
    for (int64_t e = 0; e < c.E; ++e)
      EXPECT_EQ(ensemble.params.alpha[size_t(e * c.H + 1)], p.params.alpha[size_t(e * c.H + 1)]) << "frozen, network " << e;
  }
  for (int64_t k = 0; k < c.E; ++k) {
    SCOPED_TRACE("network " + std::to_string(k));
    BackendCase one = c;
    one.E = 1;
    Problem q = p;
    q.config.ensemble_size = 1;
    q.config.first_network = k;
    q.config.tau = tau_per_neuron ? TimeConstants::each_neuron(tau[size_t(k)]) : TimeConstants(tau[size_t(k)][0]);
    q.config.preact_noise = p.config.preact_noise[k];
    q.config.postact_noise = p.config.postact_noise[k];
    q.config.validate();
    q.constraints = build_constraints<float>(q.config);
    q.params = initial_params<float>(q.config, q.constraints);
    const int64_t per_target = c.T * c.B * c.O;
    q.target.assign(p.target.begin() + k * per_target, p.target.begin() + (k + 1) * per_target);
    auto slice = [&](const std::vector<float>& x) {
      const size_t n = x.size() / size_t(c.E);
      return std::vector<float>(x.begin() + k * n, x.begin() + (k + 1) * n);
    };
    const auto initial = std::as_const(p.params).arrays(), alone = std::as_const(q.params).arrays();
    for (int a = 0; a < kNumParamArrays; ++a)
      if (a != kH0) EXPECT_EQ(slice(*initial[a]), *alone[a]) << "initial " << kParamNames[a];  // h0: the test's own
    q.params.h0 = slice(p.params.h0);
    OptimizerConfig o = mixed;
    o.lr = mixed.lr[k], o.weight_decay = mixed.weight_decay[k], o.clip_grad_norm = mixed.clip_grad_norm[k];
    LossWeights lw = w;
    for (PerNetwork& x : lw.lambda) x = x[k];
    const Run r = run(one, q, o, lw);
    for (size_t s = 0; s < r.steps.size(); ++s) {
      for (int t = 0; t < kNumLossTerms; ++t)
        EXPECT_EQ(ensemble.steps[s].terms[size_t(k * kNumLossTerms + t)], r.steps[s].terms[size_t(t)])
            << kLossTermNames[t] << " at step " << s + 1;
      EXPECT_EQ(ensemble.steps[s].grad_norm[size_t(k)], r.steps[s].grad_norm[0]) << "step " << s + 1;
    }
    const auto pe = ensemble.params.arrays(), pr = r.params.arrays();
    const auto me = ensemble.opt.m.arrays(), mr = r.opt.m.arrays(), ve = ensemble.opt.v.arrays(), vr = r.opt.v.arrays();
    for (int a = 0; a < kNumParamArrays; ++a) {
      EXPECT_EQ(slice(*pe[a]), *pr[a]) << kParamNames[a];
      EXPECT_EQ(slice(*me[a]), *mr[a]) << "m of " << kParamNames[a];
      EXPECT_EQ(slice(*ve[a]), *vr[a]) << "v of " << kParamNames[a];
    }
    for (int l = 0; l < 3; ++l) EXPECT_EQ(slice(ensemble.sparsity[l]), r.sparsity[l]) << "grown mask of layer " << l;
  }
}
template <class MakeBackend>
void expect_network_k_equals_its_one_network_run(MakeBackend&& make) {
  for (const bool per_neuron : {false, true}) {
    SCOPED_TRACE(per_neuron ? "tau per network and neuron" : "tau per network");
    expect_network_k_equals_its_one_network_run(make, per_neuron, false);
  }
  SCOPED_TRACE("tau per network and neuron, learned");
  expect_network_k_equals_its_one_network_run(make, true, true);
}

}  // namespace ctrnn::test
