// The view calls (ctrnn/view.hpp) on the CPU backends: the same results as the Tensor calls, bit
// for bit, and every refused view refused before anything changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"
#include "double_network.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using test::expect_refused;
using test::random_vector;

constexpr int64_t kE = 3, kI = 2, kH = 5, kO = 3, kT = 6, kB = 4;

Config noisy(InitState init = InitState::Zero) {
  Config c;
  c.dims = {kI, kH, kO};
  c.ensemble_size = kE;
  c.activation = Activation::Tanh;
  c.preact_noise = 0.05;
  c.postact_noise = 0.02;
  c.init_state = init;
  c.biases = {InitSpec::normal(), InitSpec::normal(), InitSpec::normal()};
  c.seed = 11;
  return c;
}

template <class T>
Tensor<T> random_tensor(Shape s, uint64_t seed, double lo = -1, double hi = 1) {
  const int64_t n = element_count(s);
  return Tensor<T>(std::move(s), random_vector<T>(size_t(n), seed, lo, hi));
}

// A tensor of NaN: every element a call should write shows whether it was written.
template <class T>
Tensor<T> poisoned(Shape s) {
  return Tensor<T>(std::move(s), std::numeric_limits<T>::quiet_NaN());
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <class T>
::testing::AssertionResult same_params(const Params<T>& a, const Params<T>& b) {
  const auto x = a.arrays(), y = b.arrays();
  for (size_t k = 0; k < x.size(); ++k)
    if (!same_bits(*x[k], *y[k])) return ::testing::AssertionFailure() << kParamNames[k] << " differs";
  return ::testing::AssertionSuccess();
}

template <class T>
void forward_view_equals_tensor(Device device, InitState init, bool per_network_u) {
  BasicNetwork<T> by_tensor(noisy(init), device), by_view(noisy(init), device);
  for (int call = 0; call < 3; ++call) {  // keep mode: the carried state, and the noise stream, move on
    const Tensor<T> u = random_tensor<T>(per_network_u ? Shape{kE, kT, kB, kI} : Shape{kT, kB, kI}, 100 + call);
    const ForwardResult<T> expected = by_tensor.forward(u);
    Tensor<T> y = poisoned<T>({kE, kT, kB, kO}), r = poisoned<T>({kE, kT, kB, kH});
    const View yv = view_of(y), rv = view_of(r);
    by_view.forward(view_of(u), &yv, &rv);
    EXPECT_TRUE(same_bits(y.data, expected.y.data)) << "call " << call;
    EXPECT_TRUE(same_bits(r.data, expected.r.data)) << "call " << call;
    EXPECT_EQ(by_view.forward_calls(), by_tensor.forward_calls());
    EXPECT_TRUE(same_bits(by_view.kept_state().data, by_tensor.kept_state().data));
  }
}

TEST(Views, ForwardEqualsTensorForwardOnTheCpuBackend) {
  forward_view_equals_tensor<float>(Device::Cpu, InitState::Zero, false);
  forward_view_equals_tensor<float>(Device::Cpu, InitState::Learn, true);
  forward_view_equals_tensor<float>(Device::Cpu, InitState::Keep, false);
}

TEST(Views, ForwardEqualsTensorForwardOnTheDoubleReference) {
  forward_view_equals_tensor<double>(Device::Cpu, InitState::Keep, true);
}

TEST(Views, ForwardWithoutOutputViewsKeepsThemForLastOutputs) {
  Network a(noisy(), Device::Cpu), b(noisy(), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 5);
  const auto expected = a.forward(u);
  Tensor<float> y = poisoned<float>({kE, kT, kB, kO});
  const View yv = view_of(y);
  b.forward(view_of(u), &yv);  // y only
  EXPECT_TRUE(same_bits(y.data, expected.y.data));
  EXPECT_TRUE(same_bits(b.last_rates().data, expected.r.data));
  b.forward(view_of(u));  // neither
  EXPECT_TRUE(same_bits(b.last_outputs().data, a.forward(u).y.data));
}

TEST(Views, BackwardEqualsTensorBackwardAndWritesGradientViews) {
  Network a(noisy(InitState::Learn), Device::Cpu), b(noisy(InitState::Learn), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kE, kT, kB, kI}, 7);
  a.forward(u);
  b.forward(view_of(u));
  const Tensor<float> dy = random_tensor<float>({kE, kT, kB, kO}, 8), dr = random_tensor<float>({kE, kT, kB, kH}, 9);
  for (const bool with_dr : {true, false}) {
    const Gradients<float> expected = a.backward(dy, with_dr ? &dr : nullptr);
    const Shape shapes[kNumParamArrays] = {{kE, kI, kH}, {kE, kH, kH}, {kE, kH, kO}, {kE, kH},
                                            {kE, kH},     {kE, kO},     {kE, kH},     {kE, kH}};
    std::vector<Tensor<float>> grads;
    for (const Shape& s : shapes) grads.push_back(poisoned<float>(s));
    std::vector<View> views;
    for (const auto& g : grads) views.push_back(view_of(g));
    std::array<const View*, kNumParamArrays> out{};
    for (int k = 0; k < kNumParamArrays; ++k) out[k] = &views[k];
    const View dyv = view_of(dy), drv = view_of(dr);
    b.backward(dyv, with_dr ? &drv : nullptr, out);
    const auto want = expected.arrays();
    for (int k = 0; k < kNumParamArrays; ++k) EXPECT_TRUE(same_bits(grads[k].data, *want[k])) << kParamNames[k];
    EXPECT_TRUE(same_params(b.gradients(), expected));
  }
}

// dL/du through the view and the Tensor calls, on the float backend and the double reference,
// for a shared u (T, B, I) and a per-network u (E, T, B, I): the same bits, shaped as u.
template <class T>
void input_gradient_view_equals_tensor(bool per_network_u) {
  BasicNetwork<T> a(noisy(InitState::Learn), Device::Cpu), b(noisy(InitState::Learn), Device::Cpu);
  const Shape u_shape = per_network_u ? Shape{kE, kT, kB, kI} : Shape{kT, kB, kI};
  const Tensor<T> u = random_tensor<T>(u_shape, 17);
  a.forward(u);
  b.forward(view_of(u));
  const Tensor<T> dy = random_tensor<T>({kE, kT, kB, kO}, 18), dr = random_tensor<T>({kE, kT, kB, kH}, 19);
  Tensor<T> du_tensor;
  const Gradients<T> expected = a.backward(dy, &dr, &du_tensor);
  EXPECT_EQ(du_tensor.shape, u_shape);
  Tensor<T> du = poisoned<T>(u_shape);
  const View dyv = view_of(dy), drv = view_of(dr), duv = view_of(du);
  b.backward(dyv, &drv, {}, Stream{}, &duv);
  EXPECT_TRUE(same_bits(du.data, du_tensor.data));
  EXPECT_TRUE(same_params(b.gradients(), expected));
  double scale = 0;
  for (T x : du.data) scale = std::max(scale, double(std::abs(x)));
  EXPECT_GT(scale, 0) << "an all-zero input gradient";
}

TEST(Views, InputGradientViewEqualsTheTensorForm) {
  input_gradient_view_equals_tensor<float>(false);
  input_gradient_view_equals_tensor<float>(true);
  input_gradient_view_equals_tensor<double>(false);
  input_gradient_view_equals_tensor<double>(true);
}

TEST(Views, SetParamsWritesLearnedArraysAndProjectsWeights) {
  Config c = noisy(InitState::Learn);
  Array ei({kH, kH});
  for (int64_t i = 0; i < kH * kH; ++i) ei.data[size_t(i)] = i / kH < 3 ? 1 : -1;  // rows 0-2 excitatory
  c.ei_masks[1] = ei;
  Network n(c, Device::Cpu);
  const Params<float> before = n.params();
  const Tensor<float> w_hid = random_tensor<float>({kE, kH, kH}, 31), h0 = random_tensor<float>({kE, kH}, 32);
  const View wv = view_of(w_hid), hv = view_of(h0);
  std::array<const View*, kNumParamArrays> src{};
  src[kWHid] = &wv;
  src[kH0] = &hv;
  n.set_params(src);
  const Params<float>& after = n.params();
  EXPECT_TRUE(same_bits(after.h0, h0.data));
  for (int64_t e = 0; e < kE; ++e)
    for (int64_t i = 0; i < kH * kH; ++i) {
      const size_t k = size_t(e * kH * kH + i);
      const float w = w_hid.data[k];
      EXPECT_EQ(after.w_hid[k], i / kH < 3 ? std::max(w, 0.0f) : std::min(w, 0.0f)) << "Dale's law, entry " << k;
    }
  EXPECT_TRUE(same_bits(after.w_in, before.w_in));
  EXPECT_TRUE(same_bits(after.b_out, before.b_out));
}

TEST(Views, StepAndEvaluateEqualTensorCalls) {
  for (const InitState init : {InitState::Zero, InitState::Keep}) {
    Network a(noisy(init), Device::Cpu), b(noisy(init), Device::Cpu);
    OptimizerConfig opt;
    opt.lr = 1e-2;
    LossWeights w;
    w.lambda[kLossFr] = 0.1;
    Trainer ta(a, opt, w), tb(b, opt, w);
    for (int step = 0; step < 3; ++step) {
      const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 20 + step);
      const Tensor<float> target = random_tensor<float>({kE, kT, kB, kO}, 30 + step);
      const Tensor<float> mask = random_tensor<float>({kT, kB}, 40 + step, 0, 1);
      const View mv = view_of(mask);
      const LossReport ra = ta.step(u, target, &mask), rb = tb.step(view_of(u), view_of(target), &mv);
      EXPECT_TRUE(same_bits(ra.total, rb.total));
      EXPECT_TRUE(same_bits(ra.grad_norm, rb.grad_norm));
      EXPECT_TRUE(same_params(a.params(), b.params())) << "step " << step;
      const LossReport ea = ta.evaluate(u, target), eb = tb.evaluate(view_of(u), view_of(target));
      EXPECT_TRUE(same_bits(ea.total, eb.total));
    }
    EXPECT_TRUE(same_bits(a.kept_state().data, b.kept_state().data));
    EXPECT_TRUE(same_bits(a.last_outputs().data, b.last_outputs().data));
  }
}

TEST(Views, StreamIsIgnoredOnTheCpu) {
  Network a(noisy(), Device::Cpu), b(noisy(), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 3);
  Tensor<float> y = poisoned<float>({kE, kT, kB, kO});
  const View yv = view_of(y);
  int not_a_stream = 0;  // never dereferenced: the CPU computes before returning
  b.forward(view_of(u), &yv, nullptr, Stream{&not_a_stream});
  EXPECT_TRUE(same_bits(y.data, a.forward(u).y.data));
}

TEST(Views, SizeOneAxesMayHaveAnyStride) {
  Network a(noisy(), Device::Cpu), b(noisy(), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, 1, kI}, 4);
  View uv = view_of(u);
  uv.strides = {kI, 12345, 1};  // the batch axis has one element: its stride is never used
  Tensor<float> y = poisoned<float>({kE, kT, 1, kO});
  const View yv = view_of(y);
  b.forward(uv, &yv);
  EXPECT_TRUE(same_bits(y.data, a.forward(u).y.data));
}

// A view whose only axis longer than one is the last, with a stride other than 1 (every other
// element of a row: u[0, 0, ::2] in numpy), is not dense: refused, not read as the first I
// elements. Its size-one axes may have any stride (above); its long axis may not.
TEST(Views, AStridedLastAxisIsRefusedAlsoWhenItIsTheOnlyLongAxis) {
  Network n(noisy(), Device::Cpu);
  const Tensor<float> row = random_tensor<float>({1, 1, 2 * kI}, 5);
  View uv = view_of(row);
  uv.shape = {1, 1, kI};
  for (int64_t stride : {2, 0, -1}) {
    uv.strides = {2 * kI, 2 * kI, stride};
    SCOPED_TRACE("last stride " + std::to_string(stride));
    expect_refused([&] { n.forward(uv); }, "inputs");
  }
  Tensor<float> y = poisoned<float>({kE, 1, 1, 2 * kO});
  View yv = view_of(y);
  yv.shape = {kE, 1, 1, kO}, yv.strides = {2 * kO, 2 * kO, 2 * kO, 2};
  const Tensor<float> u = random_tensor<float>({1, 1, kI}, 6);
  expect_refused([&] { n.forward(view_of(u), &yv); }, "y");
}

// The state a refused call must leave as it was.
struct Snapshot {
  uint64_t calls;
  Params<float> params;
  std::vector<float> y, kept;
  explicit Snapshot(const Network& n)
      : calls(n.forward_calls()), params(n.params()), y(n.last_outputs().data), kept(n.kept_state().data) {}
  void expect_unchanged(const Network& n) const {
    EXPECT_EQ(n.forward_calls(), calls);
    EXPECT_TRUE(same_params(n.params(), params));
    EXPECT_TRUE(same_bits(n.last_outputs().data, y));
    EXPECT_TRUE(same_bits(n.kept_state().data, kept));
  }
};

// Row-major strides of a shape, in elements.
Shape dense_strides_of(const Shape& shape) {
  Shape s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// Each way a view can be wrong, applied to a good one.
std::vector<std::pair<std::string, View>> bad_variants(const View& good) {
  std::vector<std::pair<std::string, View>> out;
  View v = good;
  v.dtype = DType::Float64;
  out.push_back({"dtype float64", v});
  v = good;
  v.location = Location::cuda(0);
  out.push_back({"a CUDA view on a CPU network", v});
  v = good;
  v.strides.assign(good.shape.size(), 1);  // every axis stride 1: not row-major
  out.push_back({"non-dense strides", v});
  v = good;
  v.strides = dense_strides_of(good.shape);
  v.strides.back() = 2;  // every other element along the last axis, the others dense
  out.push_back({"a strided last axis", v});
  v = good;
  v.strides = {1};
  out.push_back({"strides of another rank", v});
  v = good;
  v.data = nullptr;
  out.push_back({"null data", v});
  v = good;
  v.shape.back() += 1;
  out.push_back({"another shape", v});
  v = good;
  v.shape.front() = -1;
  out.push_back({"a negative size", v});
  v = good;
  v.shape.front() = int64_t(1) << 62;  // with the other sizes, more elements than int64 holds
  out.push_back({"sizes whose product overflows", v});
  return out;
}

TEST(Views, RefusedForwardViewsChangeNothing) {
  Network n(noisy(InitState::Keep), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 1);
  n.forward(u);
  const Snapshot before(n);
  Tensor<float> y = poisoned<float>({kE, kT, kB, kO}), r = poisoned<float>({kE, kT, kB, kH});
  const View uv = view_of(u), yv = view_of(y), rv = view_of(r);
  for (const auto& variant : bad_variants(uv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;  // not a structured binding: C++17 lambdas cannot capture one
    SCOPED_TRACE("inputs: " + what);
    expect_refused([&] { n.forward(bad, &yv, &rv); }, "inputs");
    before.expect_unchanged(n);
  }
  for (const auto& variant : bad_variants(yv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("y: " + what);
    expect_refused([&] { n.forward(uv, &bad, &rv); }, "y");
    before.expect_unchanged(n);
  }
  for (const auto& variant : bad_variants(rv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("r: " + what);
    expect_refused([&] { n.forward(uv, &yv, &bad); }, "r");
    before.expect_unchanged(n);
  }
  for (float x : y.data) EXPECT_TRUE(std::isnan(x));  // nothing written into the caller's buffers
}

TEST(Views, RefusalMessagesNameWhatWasExpectedAndFound) {
  Network n(noisy(), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 1);
  View v = view_of(u);
  v.location = Location::cuda(1);
  try {
    n.forward(v);
    FAIL() << "accepted a CUDA view on a CPU network";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "ctrnn: invalid inputs: expected host memory (the network computes on the CPU), got CUDA device 1");
  }
  v = view_of(u);
  v.dtype = DType::Float64;
  try {
    n.forward(v);
    FAIL() << "accepted a float64 view on a float network";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "ctrnn: invalid inputs: expected dtype float32, got float64");
  }
}

TEST(Views, RefusedBackwardViewsChangeNothing) {
  Network n(noisy(InitState::Learn), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 1);
  n.forward(u);
  const Tensor<float> dy = random_tensor<float>({kE, kT, kB, kO}, 2), dr = random_tensor<float>({kE, kT, kB, kH}, 3);
  const Gradients<float> first = n.backward(dy, &dr);
  Tensor<float> g_hid = poisoned<float>({kE, kH, kH});
  const View dyv = view_of(dy), drv = view_of(dr), gv = view_of(g_hid);
  const Tensor<float> dy2 = random_tensor<float>({kE, kT, kB, kO}, 4);  // would give other gradients
  for (const auto& variant : bad_variants(dyv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("dy: " + what);
    expect_refused([&] { n.backward(bad, &drv); }, "dy");
  }
  for (const auto& variant : bad_variants(drv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("dr: " + what);
    expect_refused([&] { n.backward(view_of(dy2), &bad); }, "dr");
  }
  for (const auto& variant : bad_variants(gv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("gradient: " + what);
    std::array<const View*, kNumParamArrays> out{};
    out[1] = &bad;
    expect_refused([&] { n.backward(view_of(dy2), nullptr, out); }, "gradient w_hid");
  }
  EXPECT_TRUE(same_params(n.gradients(), first));
  for (float x : g_hid.data) EXPECT_TRUE(std::isnan(x));
}

TEST(Views, RefusedTrainingViewsChangeNothing) {
  Network n(noisy(InitState::Keep), Device::Cpu);
  Trainer t(n, OptimizerConfig{});
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 1), target = random_tensor<float>({kT, kB, kO}, 2);
  const Tensor<float> mask = random_tensor<float>({kT, kB, kO}, 3, 0, 1);
  t.step(u, target, &mask);
  const Snapshot before(n);
  const View uv = view_of(u), tv = view_of(target), mv = view_of(mask);
  auto expect_all_refused = [&](const std::string& name, auto&& call) {
    for (const bool evaluate : {false, true}) {
      SCOPED_TRACE(evaluate ? "evaluate" : "step");
      expect_refused([&] { call(evaluate); }, name);
      before.expect_unchanged(n);
      EXPECT_EQ(t.steps_done(), 1);
    }
  };
  auto run = [&](bool evaluate, const View& a, const View& b, const View* c) {
    return evaluate ? t.evaluate(a, b, c) : t.step(a, b, c);
  };
  for (const auto& variant : bad_variants(uv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("inputs: " + what);
    expect_all_refused("inputs", [&](bool e) { run(e, bad, tv, &mv); });
  }
  for (const auto& variant : bad_variants(tv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("target: " + what);
    expect_all_refused("target", [&](bool e) { run(e, uv, bad, &mv); });
  }
  for (const auto& variant : bad_variants(mv)) {
    const std::string& what = variant.first;
    const View& bad = variant.second;
    SCOPED_TRACE("mask: " + what);
    expect_all_refused("mask", [&](bool e) { run(e, uv, tv, &bad); });
  }
  const Tensor<float> zero_mask({kT, kB}, 0.0f);
  const View zv = view_of(zero_mask);
  expect_all_refused("mask", [&](bool e) { run(e, uv, tv, &zv); });
}

TEST(Views, TensorWhoseDataDoesNotMatchItsShapeIsRefused) {
  Network n(noisy(), Device::Cpu);
  Tensor<float> u({kT, kB, kI});
  u.data.pop_back();
  expect_refused([&] { n.forward(u); }, "inputs");
  EXPECT_EQ(n.forward_calls(), 0u);
}

TEST(Views, RefusedInputGradientViewChangesNothing) {
  Network n(noisy(), Device::Cpu);
  const Tensor<float> u = random_tensor<float>({kT, kB, kI}, 1);
  n.forward(u);
  const Tensor<float> dy = random_tensor<float>({kE, kT, kB, kO}, 2);
  const Gradients<float> first = n.backward(dy);
  Tensor<float> du = poisoned<float>({kT, kB, kI});
  const View duv = view_of(du);
  const Tensor<float> dy2 = random_tensor<float>({kE, kT, kB, kO}, 4);
  for (const auto& variant : bad_variants(duv)) {
    SCOPED_TRACE("du: " + variant.first);
    expect_refused([&] { n.backward(view_of(dy2), nullptr, {}, Stream{}, &variant.second); }, "du");
  }
  Tensor<float> per_network = poisoned<float>({kE, kT, kB, kI});  // u was shared: (T, B, I)
  const View pv = view_of(per_network);
  expect_refused([&] { n.backward(view_of(dy2), nullptr, {}, Stream{}, &pv); }, "du");
  EXPECT_TRUE(same_params(n.gradients(), first));
  for (float x : du.data) EXPECT_TRUE(std::isnan(x));
}

TEST(Views, RefusedParameterViewsChangeNothing) {
  Config c = noisy(InitState::Zero);
  c.biases[2] = InitSpec::none();
  Network n(c, Device::Cpu);
  const Params<float> before = n.params();
  const Tensor<float> w_hid = random_tensor<float>({kE, kH, kH}, 31), b_out = random_tensor<float>({kE, kO}, 33),
                      h0 = random_tensor<float>({kE, kH}, 32);
  const View wv = view_of(w_hid), bv = view_of(b_out), hv = view_of(h0);
  for (const auto& variant : bad_variants(wv)) {
    SCOPED_TRACE("w_hid: " + variant.first);
    std::array<const View*, kNumParamArrays> src{};
    src[kWHid] = &variant.second;
    expect_refused([&] { n.set_params(src); }, "parameter w_hid");
  }
  std::array<const View*, kNumParamArrays> src{};
  src[kWHid] = &wv;  // valid, but not written: a later array is refused
  src[kBOut] = &bv;
  expect_refused([&] { n.set_params(src); }, "parameter b_out");  // biases[2] is None
  src[kBOut] = nullptr;
  src[kH0] = &hv;
  expect_refused([&] { n.set_params(src); }, "parameter h0");  // init_state zero
  EXPECT_TRUE(same_params(n.params(), before));
}

}  // namespace
}  // namespace ctrnn
