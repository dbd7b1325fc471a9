// Finite-difference checks, in double, of the CPU reference's BPTT and loss gradients
// (docs/contract.md "Backward pass", "Loss"), on networks built by the library with masks, biases
// and noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "double_network.hpp"
#include "reference/ctrnn_reference.hpp"
#include "reference/loss_reference.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using reference::Trace;

constexpr int64_t kE = 3, kI = 4, kH = 9, kO = 3, kT = 21, kB = 3;

// Dale masks with 80% excitatory presynaptic neurons (rows) and a random 70%-dense sparsity mask.
Array ei_rows(int64_t pre, int64_t post) {
  Array m({pre, post});
  for (int64_t i = 0; i < pre; ++i)
    for (int64_t j = 0; j < post; ++j) m.data[i * post + j] = i < (pre * 8 + 9) / 10 ? 1 : -1;
  return m;
}
Array random_sparsity(int64_t pre, int64_t post, uint64_t seed) {
  Array m({pre, post});
  auto u = test::random_vector<double>(m.data.size(), seed, 0, 1);
  for (size_t i = 0; i < u.size(); ++i) m.data[i] = u[i] < 0.7 ? 1 : 0;
  return m;
}

struct GradCase {
  Activation activation;
  bool biases;
  InitState init_state;
  bool masks_and_noise;
  bool inputs_per_network;
};

std::string case_name(const ::testing::TestParamInfo<GradCase>& info) {
  const GradCase& c = info.param;
  return to_string(c.activation) + (c.biases ? "_bias" : "_nobias") + "_" + to_string(c.init_state) +
         (c.masks_and_noise ? "_masks_noise" : "_plain") + (c.inputs_per_network ? "_uE" : "_u");
}

Config make_config(const GradCase& c) {
  Config cfg;
  cfg.dims = {kI, kH, kO};
  cfg.ensemble_size = kE;
  cfg.activation = c.activation;
  cfg.init_state = c.init_state;
  cfg.weights = all_layers(InitSpec::normal());
  cfg.biases = all_layers(c.biases ? InitSpec::uniform() : InitSpec::none());
  cfg.seed = 1234;
  // Time constants per neuron (every case) and per network (the noisy ones), alpha from 1 to 0.1
  // (dt = 10), so every gradient is checked with alpha differing across the neurons it mixes.
  std::vector<std::vector<double>> tau(static_cast<size_t>(kE));
  for (int64_t e = 0; e < kE; ++e)
    for (int64_t h = 0; h < kH; ++h) tau[size_t(e)].push_back(10.0 + 90.0 * double((h + 2 * e) % kH) / double(kH - 1));
  cfg.tau = c.masks_and_noise ? TimeConstants::each_network_neuron(tau) : TimeConstants::each_neuron(tau[0]);
  if (c.masks_and_noise) {
    cfg.preact_noise = PerNetwork::each({0.3, 0.0, 0.1});
    cfg.postact_noise = PerNetwork::each({0.2, 0.1, 0.0});
    cfg.sparsity_masks = {random_sparsity(kI, kH, 1), random_sparsity(kH, kH, 2), std::nullopt};
    cfg.ei_masks = {std::nullopt, ei_rows(kH, kH), ei_rows(kH, kO)};
  }
  return cfg;
}

// Everything fixed while the parameters vary: inputs, noise and the probe dL/dy, dL/dr.
struct Problem {
  Dynamics dyn;
  InitState init_state;
  bool u_per_network;
  std::vector<double> u, eps_pre, eps_post, gy, gr;

  std::vector<double> v0(const Params<double>& p) const {
    std::vector<double> v(kE * kB * kH, 0.0);
    if (init_state == InitState::Learn)
      for (int64_t e = 0; e < kE; ++e)
        for (int64_t b = 0; b < kB; ++b)
          for (int64_t h = 0; h < kH; ++h) v[(e * kB + b) * kH + h] = p.h0[e * kH + h];
    return v;
  }
  Trace<double> run(const Params<double>& p) const {
    const auto v = v0(p);
    return reference::forward(p, dyn, u.data(), u_per_network, kT, kB, v.data(),
                              eps_pre.empty() ? nullptr : eps_pre.data(), eps_post.empty() ? nullptr : eps_post.data());
  }
};

// L = <y, gy> + <r_{1..T}, gr>, so dL/dy = gy and dL/dr = gr exactly.
double probe_objective(const Problem& pb, const Trace<double>& tr) {
  double L = 0;
  for (size_t i = 0; i < tr.y.size(); ++i) L += tr.y[i] * pb.gy[i];
  for (int64_t e = 0; e < kE; ++e)
    for (int64_t i = 0; i < kT * kB * kH; ++i) L += tr.r_at(e, 1)[i] * pb.gr[e * kT * kB * kH + i];
  return L;
}

// Sign pattern of every v and r: a finite difference whose stencil crosses a kink (ReLU and
// retanh at v = 0, |r| in the fr_cv term at r = 0) is not a derivative, so such entries are
// skipped (and counted).
std::vector<bool> signs(const Trace<double>& tr) {
  std::vector<bool> s(tr.v.size() + tr.r.size());
  for (size_t i = 0; i < tr.v.size(); ++i) s[i] = tr.v[i] > 0;
  for (size_t i = 0; i < tr.r.size(); ++i) s[tr.v.size() + i] = tr.r[i] > 0;
  return s;
}

struct FdReport {
  double worst_relative = 0;
  int checked = 0, skipped = 0;
};

// Central differences of `objective` over every entry of every array in `which`, compared with
// `analytic`, per array: max |fd - analytic| / max |analytic|.
FdReport check_fd(const Params<double>& p0, const Gradients<double>& analytic, const std::vector<int>& which,
                  const std::function<double(const Params<double>&, bool*)>& objective) {
  // h = 1e-6: truncation error O(h^2) ~ 1e-12 and rounding error ~ 1e-16 |L| / h ~ 1e-10, both
  // far below the 1e-6 tolerance, which a dropped or wrong gradient term exceeds by orders.
  const double h = 1e-6;
  FdReport rep;
  for (int a : which) {
    const std::vector<double>& an = *analytic.arrays()[a];
    double scale = 0, err = 0;
    for (double x : an) scale = std::max(scale, std::abs(x));
    for (size_t i = 0; i < an.size(); ++i) {
      Params<double> plus = p0, minus = p0;
      (*plus.arrays()[a])[i] += h;
      (*minus.arrays()[a])[i] -= h;
      bool kink_plus = false, kink_minus = false;
      const double fd = (objective(plus, &kink_plus) - objective(minus, &kink_minus)) / (2 * h);
      if (kink_plus || kink_minus) {
        ++rep.skipped;
        continue;
      }
      ++rep.checked;
      err = std::max(err, std::abs(fd - an[i]));
    }
    EXPECT_GT(scale, 0) << kParamNames[a] << ": an all-zero gradient checks nothing";
    const double rel = err / scale;
    EXPECT_LT(rel, 1e-6) << kParamNames[a] << " relative error " << rel;
    rep.worst_relative = std::max(rep.worst_relative, rel);
  }
  return rep;
}

std::vector<int> learned_arrays(const BasicNetwork<double>& net) {
  std::vector<int> which{0, 1, 2};  // weights are always learned
  for (int l = 0; l < 3; ++l)
    if (net.bias_learnable(static_cast<Layer>(l))) which.push_back(3 + l);
  if (net.h0_learnable()) which.push_back(6);
  return which;
}

Problem make_problem(const BasicNetwork<double>& net, const GradCase& c) {
  std::mt19937_64 gen(99);
  std::normal_distribution<double> normal;
  Problem pb;
  pb.dyn = net.dynamics();
  pb.init_state = c.init_state;
  pb.u_per_network = c.inputs_per_network;
  pb.u = test::random_vector<double>((c.inputs_per_network ? kE : 1) * kT * kB * kI, 5);
  if (pb.dyn.preact_noise[0] > 0) {
    pb.eps_pre.resize(kE * kT * kB * kH);
    for (auto& x : pb.eps_pre) x = normal(gen);
  }
  if (pb.dyn.postact_noise[0] > 0) {
    pb.eps_post.resize(kE * kT * kB * kH);
    for (auto& x : pb.eps_post) x = normal(gen);
  }
  pb.gy = test::random_vector<double>(kE * kT * kB * kO, 6);
  pb.gr = test::random_vector<double>(kE * kT * kB * kH, 7);
  return pb;
}

class Gradient : public ::testing::TestWithParam<GradCase> {};

TEST_P(Gradient, BpttMatchesFiniteDifferences) {
  const GradCase c = GetParam();
  BasicNetwork<double> net(make_config(c));
  if (c.init_state == InitState::Learn)
    net.set_initial_state(Tensor<double>({kE, kH}, test::random_vector<double>(kE * kH, 8)));
  const Params<double> p0 = net.params();
  const Problem pb = make_problem(net, c);
  const Trace<double> base = pb.run(p0);
  const auto base_signs = signs(base);
  const bool kinked = c.activation == Activation::ReLU || c.activation == Activation::ReTanh;

  const Gradients<double> analytic =
      reference::backward(p0, pb.dyn, pb.u.data(), pb.u_per_network, base, pb.gy.data(), pb.gr.data());
  const FdReport rep = check_fd(p0, analytic, learned_arrays(net), [&](const Params<double>& p, bool* kink) {
    const Trace<double> tr = pb.run(p);
    *kink = kinked && signs(tr) != base_signs;
    return probe_objective(pb, tr);
  });
  EXPECT_GT(rep.checked, 20 * rep.skipped) << "too many entries skipped at activation kinks";
  RecordProperty("worst_relative_error", std::to_string(rep.worst_relative));
}

// An input array's gradient `grad` (the input x) against central differences of the
// probe objective: `perturb(problem, i, d)` adds d to entry i. Entries whose perturbed runs cross
// an activation kink (`kinked`) are skipped and counted. h and the 1e-6 tolerance as in check_fd.
struct ArrayFdReport {
  double scale = 0, worst_relative = 0;  // max |grad|; max |fd - grad| / scale
  int checked = 0, skipped = 0;
};
template <class Perturb>
ArrayFdReport check_array_fd(const Problem& pb, const Params<double>& p0, bool kinked, const std::vector<double>& grad,
                             Perturb perturb) {
  const double h = 1e-6;
  const auto base_signs = signs(pb.run(p0));
  ArrayFdReport rep;
  double err = 0;
  for (double x : grad) rep.scale = std::max(rep.scale, std::abs(x));
  for (size_t i = 0; i < grad.size(); ++i) {
    Problem plus = pb, minus = pb;
    perturb(plus, i, h);
    perturb(minus, i, -h);
    const Trace<double> tp = plus.run(p0), tm = minus.run(p0);
    if (kinked && (signs(tp) != base_signs || signs(tm) != base_signs)) {
      ++rep.skipped;
      continue;
    }
    ++rep.checked;
    err = std::max(err, std::abs((probe_objective(pb, tp) - probe_objective(pb, tm)) / (2 * h) - grad[i]));
  }
  rep.worst_relative = rep.scale > 0 ? err / rep.scale : err;
  return rep;
}

// dL/du (docs/contract.md "Backward pass"): the reference's input gradient against central
// differences of the same probe objective over every input entry, for a shared u (summed over
// the networks) and a per-network u.
TEST_P(Gradient, InputGradientMatchesFiniteDifferences) {
  const GradCase c = GetParam();
  BasicNetwork<double> net(make_config(c));
  const Params<double> p0 = net.params();
  const Problem pb = make_problem(net, c);
  const Trace<double> base = pb.run(p0);
  const bool kinked = c.activation == Activation::ReLU || c.activation == Activation::ReTanh;
  std::vector<double> du(pb.u.size(), std::nan(""));
  reference::backward(p0, pb.dyn, pb.u.data(), pb.u_per_network, base, pb.gy.data(), pb.gr.data(), du.data());
  const ArrayFdReport rep = check_array_fd(pb, p0, kinked, du, [](Problem& q, size_t i, double d) { q.u[i] += d; });
  EXPECT_GT(rep.scale, 0) << "an all-zero input gradient checks nothing";
  EXPECT_LT(rep.worst_relative, 1e-6) << "du relative error " << rep.worst_relative;
  EXPECT_GT(rep.checked, 20 * rep.skipped) << "too many entries skipped at activation kinks";
}

// dL/dalpha (E, H) of the reference (the gradient learnable time constants need): against central
// differences of the probe objective over every network's alpha of every neuron, in every case
// (alpha per neuron everywhere, per network and neuron with noise). h and the 1e-6 tolerance as in
// check_fd.
TEST_P(Gradient, AlphaGradientMatchesFiniteDifferences) {
  const GradCase c = GetParam();
  BasicNetwork<double> net(make_config(c));
  if (c.init_state == InitState::Learn)
    net.set_initial_state(Tensor<double>({kE, kH}, test::random_vector<double>(kE * kH, 8)));
  const Params<double> p0 = net.params();
  const Problem pb = make_problem(net, c);
  const Trace<double> base = pb.run(p0);
  const auto base_signs = signs(base);
  const bool kinked = c.activation == Activation::ReLU || c.activation == Activation::ReTanh;
  const Gradients<double> analytic = reference::backward(p0, pb.dyn, pb.u.data(), pb.u_per_network, base, pb.gy.data(),
                                                         pb.gr.data(), static_cast<double*>(nullptr), true);
  // alpha = 1 (tau = dt) too: the map is smooth in alpha beyond 1
  const FdReport rep = check_fd(p0, analytic, {kAlpha}, [&](const Params<double>& p, bool* kink) {
    const Trace<double> tr = pb.run(p);
    *kink = kinked && signs(tr) != base_signs;
    return probe_objective(pb, tr);
  });
  EXPECT_GT(rep.checked, 10 * rep.skipped) << "too many entries skipped at activation kinks";
}

std::vector<GradCase> all_cases() {
  std::vector<GradCase> cases;
  for (Activation a : {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh}) {
    for (bool biases : {false, true})
      for (InitState s : {InitState::Zero, InitState::Learn}) cases.push_back({a, biases, s, true, biases});
    cases.push_back({a, true, InitState::Learn, false, false});
  }
  return cases;
}
INSTANTIATE_TEST_SUITE_P(Reference, Gradient, ::testing::ValuesIn(all_cases()), case_name);

// The loss and all its regularizers, through BPTT: the gradient of the total is the BPTT of
// (dL/dy, dL/dr) plus the direct weight terms.
class LossGradient : public ::testing::TestWithParam<std::tuple<Activation, LossMask>> {};

TEST_P(LossGradient, TotalMatchesFiniteDifferences) {
  // Not a structured binding: clang 14 (the sanitized CI build) cannot capture one in a lambda.
  const Activation activation = std::get<0>(GetParam());
  const LossMask mask_shape = std::get<1>(GetParam());
  const GradCase c{activation, true, InitState::Learn, true, false};
  BasicNetwork<double> net(make_config(c));
  net.set_initial_state(Tensor<double>({kE, kH}, test::random_vector<double>(kE * kH, 8)));
  const Params<double> p0 = net.params();
  const Problem pb = make_problem(net, c);
  const auto target = test::random_vector<double>(kT * kB * kO, 11);
  std::vector<double> mask;
  if (mask_shape == LossMask::TimeBatch) mask = test::random_vector<double>(kT * kB, 12, 0, 1);
  if (mask_shape == LossMask::TimeBatchOutput) mask = test::random_vector<double>(kT * kB * kO, 12, 0, 1);
  LossWeights w;
  w.lambda = {1.0, 0.3, 0.2, 0.1, 0.5, 0.7, 0.4};
  auto total_loss = [&](const Params<double>& p, const Trace<double>& tr) {
    const auto res = reference::loss(p, tr, target.data(), false, mask.empty() ? nullptr : mask.data(), mask_shape, w);
    double L = 0;
    for (double x : res.total) L += x;
    return L;
  };
  const Trace<double> base = pb.run(p0);
  const auto res = reference::loss(p0, base, target.data(), false, mask.empty() ? nullptr : mask.data(), mask_shape, w);
  for (int k = 0; k < kNumLossTerms; ++k) EXPECT_GT(std::abs(res.terms[k]), 0) << kLossTermNames[k];
  Gradients<double> analytic =
      reference::backward(p0, pb.dyn, pb.u.data(), false, base, res.gy.data(), res.gr.data());
  for (int a = 0; a < 3; ++a)
    for (size_t i = 0; i < analytic.arrays()[a]->size(); ++i) (*analytic.arrays()[a])[i] += (*res.direct.arrays()[a])[i];
  const auto base_signs = signs(base);
  const FdReport rep = check_fd(p0, analytic, learned_arrays(net), [&](const Params<double>& p, bool* kink) {
    const Trace<double> tr = pb.run(p);
    *kink = signs(tr) != base_signs;
    return total_loss(p, tr);
  });
  EXPECT_GT(rep.checked, 20 * rep.skipped);
}

INSTANTIATE_TEST_SUITE_P(Reference, LossGradient,
                         ::testing::Combine(::testing::Values(Activation::Tanh, Activation::Sigmoid),
                                            ::testing::Values(LossMask::None, LossMask::TimeBatch,
                                                              LossMask::TimeBatchOutput)),
                         [](const auto& info) {
                           const LossMask m = std::get<1>(info.param);
                           return to_string(std::get<0>(info.param)) +
                                  (m == LossMask::None ? "_nomask" : m == LossMask::TimeBatch ? "_maskTB" : "_maskTBO");
                         });

// relu'(0) = 0 (docs/contract.md, as torch's relu): with init_state learn and h0 = 0, every v_0 is
// exactly 0, and dL/dh0 = (1 - alpha) sum_b dv_1 has no recurrent term alpha dv_1 W_hid^T. Pinned
// by the one-sided difference from below (h0_j = -eps keeps r_0 = 0, so the loss is smooth
// there), on the reference (double) and on the float CPU backend's kernels; the difference from
// above (r_0 = eps) shows the slope-1 gradient is far from it, so the check can fail.
TEST(Gradient, ReluSlopeAtExactlyZeroIsZeroForTheFirstStepsH0) {
  Config c;
  c.dims = {2, 8, 3};
  c.activation = Activation::ReLU;
  c.init_state = InitState::Learn;
  c.weights = all_layers(InitSpec::normal());
  c.seed = 77;
  constexpr int64_t T = 5, B = 2, H = 8;
  const Tensor<double> u({T, B, 2}, test::random_vector<double>(T * B * 2, 1));
  const Tensor<double> gy({1, T, B, 3}, test::random_vector<double>(T * B * 3, 2));
  const Tensor<double> zero({1, H}, std::vector<double>(H, 0.0));
  BasicNetwork<double> net(c);
  const auto loss_at = [&](const std::vector<double>& h0) {
    net.set_initial_state(Tensor<double>({1, H}, h0));
    const auto y = net.forward(u).y;
    double l = 0;
    for (int64_t i = 0; i < y.numel(); ++i) l += gy.data[i] * y.data[i];
    return l;
  };
  const double l0 = loss_at(zero.data);
  const Gradients<double> g = net.backward(gy);  // of the forward at h0 = 0
  Network fnet(c, Device::Cpu);
  fnet.set_initial_state(Tensor<float>({1, H}, std::vector<float>(H, 0.0f)));
  fnet.forward(Tensor<float>(u.shape, std::vector<float>(u.data.begin(), u.data.end())));
  const Gradients<float> gf = fnet.backward(Tensor<float>(gy.shape, std::vector<float>(gy.data.begin(), gy.data.end())));
  constexpr double eps = 1e-7;
  double scale = 0, kink = 0;
  for (int64_t j = 0; j < H; ++j) scale = std::max(scale, std::abs(g.h0[j]));
  for (int64_t j = 0; j < H; ++j) {
    std::vector<double> h0(H, 0.0);
    h0[j] = -eps;
    const double below = (l0 - loss_at(h0)) / eps;
    h0[j] = eps;
    const double above = (loss_at(h0) - l0) / eps;
    // Double: the loss is smooth on [-eps, 0] (every other v is away from 0): O(eps) error.
    EXPECT_NEAR(g.h0[j], below, 1e-6 * scale + 1e-9) << "h0[" << j << "], reference";
    // Float: rounding over T = 5 steps, ~1e-6 of the scale; the slope-1 term is O(scale).
    EXPECT_NEAR(gf.h0[j], below, 1e-5 * scale) << "h0[" << j << "], float CPU backend";
    kink = std::max(kink, std::abs(above - below));
  }
  EXPECT_GT(kink, 0.01 * scale) << "slopes 0 and 1 at v = 0 give nearly the same h0 gradient: the test could not fail";
}

}  // namespace
}  // namespace ctrnn
