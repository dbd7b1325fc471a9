#pragma once
// The CUDA backend's sequences, written once against the primitives of primitives.hpp: forward
// (input drive for all T as one GEMM; per step the recurrent GEMM and one fused kernel; readout
// for all T as one GEMM), BPTT (dL/dy through W_out for all T as one GEMM; per step the
// recurrent GEMM and one fused kernel; weight gradients as GEMMs over all T; bias and h0
// gradients as column sums), the loss with its gradients, the optimizer step, projection and
// growth. OrchestratedBackend<CudaPrims> is the CUDA backend; OrchestratedBackend<HostPrims> runs
// the very same sequence and bodies on the host, which is what CI compares with the CPU
// reference. Same semantics as CpuBackend (host/cpu_backend.cpp) in every virtual.
//
// Layout, row-major and time-major (see kernels/leaky_step.hpp):
//   u (E or 1, T, B, I); v, r, dv (E, T+1, B, H); work (E, T, B, H); y, gy (E, T, B, O);
//   parameters (E, pre, post) and (E, post), as in Params.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "ctrnn/error.hpp"
#include "orchestrated/persistent_recurrence.hpp"
#include "orchestrated/primitives.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/leaky_step.hpp"
#include "kernels/loss.hpp"
#include "kernels/update.hpp"

namespace ctrnn::detail {

template <class P>
class OrchestratedBackend final : public Backend<float> {
  template <class T>
  using Buf = typename P::template Buffer<T>;

  // The seven arrays of Params, in Params::arrays() order.
  enum : int { kWIn = 0, kWHid, kWOut, kBIn, kBHid, kBOut, kH0, kNumArrays };
  struct ParamBuffers {
    std::array<Buf<float>, kNumArrays> a;
    float* operator[](int k) { return a[k].data(); }
  };

 public:
  // poison: fill every buffer with NaN whenever it is (re)sized for a call, so a read of an
  // element no step wrote shows up as NaN in the results (tests).
  template <class... PrimArgs>
  OrchestratedBackend(const Config& c, bool poison, PrimArgs&&... prim_args)
      : prims_(std::forward<PrimArgs>(prim_args)...),
        learnable_(Learnable::of(c)),
        poison_(poison),
        E_(c.ensemble_size),
        I_(c.dims[0]),
        H_(c.dims[1]),
        O_(c.dims[2]) {
    for (ParamBuffers* set : {&params_, &grads_, &opt_m_, &opt_v_})
      for (int k = 0; k < kNumArrays; ++k) {
        resize(set->a[k], array_size(k));
        fill(set->a[k].data(), array_size(k), 0.0f);
      }
    for (int l = 0; l < 3; ++l) {
      const auto s = c.layer_shape(Layer(l));
      pre_[l] = s[0], post_[l] = s[1];
    }
  }

  Device device() const override { return prims_.device(); }
  std::string description() const override { return prims_.description(); }

  void set_params(const Params<float>& p) override { upload_set(params_, p, "params"); }
  void get_params(Params<float>& p) override { download_set(params_, p); }

  void set_constraints(const std::array<LayerConstraints<float>, 3>& c) override {
    for (int l = 0; l < 3; ++l) {
      const int64_t n = E_ * pre_[l] * post_[l];
      upload_optional(sparsity_[l], c[l].sparsity, n, "sparsity mask");
      upload_optional(ei_[l], c[l].ei, n, "E/I mask");
      upload_optional(plasticity_[l], c[l].plasticity, n, "plasticity");
      upload_optional(growth_[l], c[l].growth, n, "growth probability");
    }
  }

  void get_sparsity(std::array<std::vector<float>, 3>& s) override {
    for (int l = 0; l < 3; ++l) {
      s[l].assign(sparsity_[l].size(), 0.0f);
      if (!s[l].empty()) prims_.download(s[l].data(), sparsity_[l].data(), int64_t(s[l].size()));
    }
  }

  void forward(const ForwardArgs<float>& a) override {
    const int64_t E = E_, I = I_, H = H_, O = O_, T = a.steps, B = a.batch, BH = B * H;
    if (T <= 0 || B <= 0) throw InvalidArgument("inputs", "T >= 1 and B >= 1", std::to_string(T) + ", " + std::to_string(B));
    if (a.initial == InitialState::Kept && kept_batch_ != B)
      throw StateError("ctrnn: kept state has batch " + std::to_string(kept_batch_));
    const RecurrencePlan plan = plan_for(prims_, recurrence_, E, B, H);  // before any change
    T_ = T, B_ = B;
    dyn_ = a.dynamics;
    u_per_network_ = a.u_per_network;
    const int64_t u_size = (a.u_per_network ? E : 1) * T * B * I;
    resize(u_, u_size);
    prims_.upload(u_.data(), a.u, u_size);
    const int64_t state = (T + 1) * BH;  // stride between networks in v and r
    resize(v_, E * state);
    resize(r_, E * state);
    resize(work_, E * T * BH);
    resize(y_, E * T * B * O);
    const Activation act = a.dynamics.activation;

    // v_0, r_0 = f(v_0)
    prims_.apply(E * BH, kernels::InitialStateBody{a.initial == InitialState::H0 ? params_[kH0] : nullptr,
                                                   a.initial == InitialState::Kept ? kept_.data() : nullptr,
                                                   v_.data(), r_.data(), state, B, H, act});
    // Input drive of all T steps: work (T B x H) = u (T B x I) W_in (I x H), per network.
    prims_.gemm(Op::N, Op::N, T * B, H, I, 1.0f, u_.data(), I, a.u_per_network ? T * B * I : 0, params_[kWIn], H,
                I * H, 0.0f, work_.data(), H, T * BH, E);
    const float alpha = float(a.dynamics.alpha);
    if (plan.path != RecurrencePath::Sequence)  // the whole loop below in one persistent launch
      run_persistent(prims_, plan, E,
                     kernels::PersistentForward{params_[kWHid], params_[kBIn], params_[kBHid], work_.data(), v_.data(),
                                                r_.data(), T, alpha, float(a.dynamics.preact_noise),
                                                float(a.dynamics.postact_noise), act, a.seed, uint32_t(a.call), {}});
    for (int64_t t = 1; plan.path == RecurrencePath::Sequence && t <= T; ++t) {
      float* drive = work_.data() + (t - 1) * BH;
      // drive_t (B x H) += r_{t-1} (B x H) W_hid (H x H)
      prims_.gemm(Op::N, Op::N, B, H, H, 1.0f, r_.data() + (t - 1) * BH, H, state, params_[kWHid], H, H * H, 1.0f,
                  drive, H, T * BH, E);
      prims_.apply(E * BH, kernels::LeakyStepForward{drive, T * BH, params_[kBIn], params_[kBHid],
                                                     v_.data() + (t - 1) * BH, v_.data() + t * BH,
                                                     r_.data() + t * BH, state, B, H, alpha,
                                                     float(a.dynamics.preact_noise), float(a.dynamics.postact_noise),
                                                     act, a.seed, uint32_t(t - 1), uint32_t(a.call)});
    }
    // Readout of all T steps: y (T B x O) = b_out + r_{1..T} (T B x H) W_out (H x O).
    prims_.apply(E * T * B * O, kernels::BroadcastRows{y_.data(), params_[kBOut], T * B, O});
    prims_.gemm(Op::N, Op::N, T * B, O, H, 1.0f, r_.data() + BH, H, state, params_[kWOut], O, H * O, 1.0f, y_.data(), O,
                T * B * O, E);
    if (a.keep_final_state) {
      resize(kept_, E * BH);
      prims_.apply(E * BH, kernels::GatherSlabs{kept_.data(), v_.data() + T * BH, BH, state});
      kept_batch_ = B;
    }
    plan_ = plan;
    has_forward_ = true;
    has_loss_ = false;
  }

  void read_forward(float* y, float* r) override {
    require_forward("read_forward");
    const int64_t BH = B_ * H_;
    if (y) prims_.download(y, y_.data(), E_ * T_ * B_ * O_);
    if (r)
      for (int64_t e = 0; e < E_; ++e)
        prims_.download(r + e * T_ * BH, r_.data() + (e * (T_ + 1) + 1) * BH, T_ * BH);
  }

  void get_kept_state(std::vector<float>& v) override {
    v.assign(kept_batch_ ? kept_.size() : 0, 0.0f);
    if (!v.empty()) prims_.download(v.data(), kept_.data(), int64_t(v.size()));
  }
  void set_kept_state(const std::vector<float>& v, int64_t batch) override {
    if (!v.empty() && int64_t(v.size()) != E_ * batch * H_)
      throw InvalidArgument("kept state", std::to_string(E_ * batch * H_) + " values (E, B, H)", std::to_string(v.size()));
    resize(kept_, int64_t(v.size()));
    if (!v.empty()) prims_.upload(kept_.data(), v.data(), int64_t(v.size()));
    kept_batch_ = v.empty() ? 0 : batch;
  }

  std::vector<double> loss(const LossArgs<float>& a) override {
    require_forward("loss");
    using namespace kernels;
    const int64_t E = E_, T = T_, B = B_, H = H_, O = O_, BH = B * H, TBO = T * B * O;
    const LossWeights& w = a.weights;
    const int64_t target_size = (a.target_per_network ? E : 1) * TBO;
    resize(target_, target_size);
    prims_.upload(target_.data(), a.target, target_size);
    const float* mask = nullptr;
    if (a.mask && a.mask_shape != LossMask::None) {
      const int64_t mask_size = a.mask_shape == LossMask::TimeBatch ? T * B : TBO;
      resize(mask_, mask_size);
      prims_.upload(mask_.data(), a.mask, mask_size);
      mask = mask_.data();
    }
    const LossMask mask_shape = mask ? a.mask_shape : LossMask::None;
    const int64_t target_stride = a.target_per_network ? TBO : 0;
    resize(stats_, kNumStats * E);
    double* stats = stats_.data();

    // MSE and dL/dy
    prims_.reduce(E, TBO, MseNumerator{y_.data(), target_.data(), target_stride, mask, mask_shape, TBO, O},
                  stats + kStatMseNum * E, false);
    prims_.reduce(E, TBO, MseDenominator{mask, mask_shape, O}, stats + kStatMseDen * E, false);
    resize(loss_gy_, E * TBO);
    prims_.apply(E * TBO, MseGrad{y_.data(), target_.data(), target_stride, mask, mask_shape, TBO, O, stats, E,
                                  float(w[kMse]), loss_gy_.data()});
    // Weight terms and their direct gradients (zero where the lambda is 0)
    const LossTerm weight_terms[3] = {kLossIn, kLossHid, kLossOut};
    for (int l = 0; l < 3; ++l) {
      const int64_t n = pre_[l] * post_[l];
      resize(direct_[l], E * n);
      if (w[weight_terms[l]] == 0) {
        fill(direct_[l].data(), E * n, 0.0f);
        continue;
      }
      prims_.reduce(E, n, SumOfSquares{params_[l], n}, stats + (kStatSsIn + l) * E, false);
      prims_.apply(E * n, WeightTermGrad{params_[l], direct_[l].data(), float(w[weight_terms[l]]), float(n)});
    }
    // Firing-rate terms: dL/dr over r_1..r_T
    resize(loss_gr_, E * T * BH);
    fill(loss_gr_.data(), E * T * BH, 0.0f);
    loss_has_gr_ = false;
    if (w[kLossFr] != 0 || w[kLossFrSd] != 0) {
      resize(rate_mean_, E * H);  // m_h = mean_{t,b} r
      prims_.column_sums(E, T * B, H, r_.data() + BH, (T + 1) * BH, 1.0f / float(T * B), rate_mean_.data(), H);
      prims_.reduce(E, H, SquaredMeanRate{rate_mean_.data(), H}, stats + kStatFrSum * E, false);
      if (w[kLossFrSd] != 0)
        prims_.reduce(E, H, SquaredMeanRateVariance{rate_mean_.data(), stats, E, H}, stats + kStatFrVar * E, false);
      prims_.apply(E * T * BH, FiringRateGrad{rate_mean_.data(), stats, E, T, B, H, float(w[kLossFr]),
                                              float(w[kLossFrSd]), loss_gr_.data()});
      loss_has_gr_ = true;
    }
    if (w[kLossFrCv] != 0) {
      resize(rate_cv_, E * BH);  // c_{b,h} = mean_t |r|
      prims_.apply(E * BH, MeanAbsRate{r_.data(), rate_cv_.data(), T, B, H});
      prims_.reduce(E, BH, CvSum{rate_cv_.data(), BH}, stats + kStatCvSum * E, false);
      prims_.reduce(E, BH, CvVariance{rate_cv_.data(), stats, E, BH}, stats + kStatCvVar * E, false);
      prims_.apply(E * T * BH, CvGrad{r_.data(), rate_cv_.data(), stats, E, T, B, H, float(w[kLossFrCv]), loss_gr_.data()});
      loss_has_gr_ = true;
    }

    std::vector<double> s(kNumStats * E);
    prims_.download(s.data(), stats, kNumStats * E);
    auto stat = [&](int k, int64_t e) { return s[k * E + e]; };
    std::vector<double> terms(E * kNumLossTerms, 0.0);
    for (int64_t e = 0; e < E; ++e) {
      double* t = &terms[e * kNumLossTerms];
      t[kMse] = stat(kStatMseNum, e) / stat(kStatMseDen, e);
      for (int l = 0; l < 3; ++l)
        if (w[weight_terms[l]] != 0) t[weight_terms[l]] = stat(kStatSsIn + l, e) / double(pre_[l] * post_[l]);
      if (w[kLossFr] != 0) t[kLossFr] = stat(kStatFrSum, e) / double(H);
      if (w[kLossFrSd] != 0) t[kLossFrSd] = std::sqrt(stat(kStatFrVar, e) / double(H - 1));
      if (w[kLossFrCv] != 0)
        t[kLossFrCv] = std::sqrt(stat(kStatCvVar, e) / double(BH - 1)) / (stat(kStatCvSum, e) / double(BH));
    }
    has_loss_ = true;
    return terms;
  }

  void backward(const float* gy, const float* gr) override {
    require_forward("backward");
    const int64_t n_y = E_ * T_ * B_ * O_, n_r = E_ * T_ * B_ * H_;
    resize(gy_in_, n_y);
    prims_.upload(gy_in_.data(), gy, n_y);
    if (gr) {
      resize(gr_in_, n_r);
      prims_.upload(gr_in_.data(), gr, n_r);
    }
    bptt(gy_in_.data(), gr ? gr_in_.data() : nullptr);
    zero_unlearned();
  }

  void backward_from_loss() override {
    if (!has_loss_) throw StateError("ctrnn: backward_from_loss() needs a loss() of the last forward first");
    bptt(loss_gy_.data(), loss_has_gr_ ? loss_gr_.data() : nullptr);
    for (int l = 0; l < 3; ++l)
      prims_.apply(E_ * pre_[l] * post_[l], kernels::AddInto{grads_[l], direct_[l].data()});
    zero_unlearned();
  }

  void read_gradients(Gradients<float>& g) override { download_set(grads_, g); }

  std::vector<double> optimizer_step(const OptimizerConfig& opt, int64_t step) override {
    const int64_t E = E_;
    resize(norm_sq_, E);
    bool first = true;
    for (int k = 0; k < kNumArrays; ++k) {
      if (!learned(k)) continue;
      const int64_t n = array_size(k) / E;
      prims_.reduce(E, n, kernels::SumOfSquares{grads_[k], n}, norm_sq_.data(), !first);
      first = false;
    }
    const body::AdamCoeffs adam = body::AdamCoeffs::of(opt, step);  // as CpuBackend's
    const bool is_adam = opt.kind == OptimizerConfig::Kind::Adam;
    for (int k = 0; k < kNumArrays; ++k) {
      if (!learned(k)) continue;
      const int64_t n = array_size(k) / E;
      const float* plasticity = k < 3 && plasticity_[k].size() ? plasticity_[k].data() : nullptr;
      prims_.apply(E * n, kernels::OptimizerUpdate{params_[k], grads_[k], opt_m_[k], opt_v_[k], plasticity, n, norm_sq_.data(),
                                                   opt.clip_grad_norm,
                                                   is_adam ? kernels::UpdateKind::Adam : kernels::UpdateKind::SGD, adam,
                                                   float(opt.lr), float(opt.momentum), float(opt.weight_decay),
                                                   step == 1});
    }
    for (int l = 0; l < 3; ++l) project(l);
    std::vector<double> norms(E);
    prims_.download(norms.data(), norm_sq_.data(), E);
    for (double& x : norms) x = std::sqrt(x);
    return norms;
  }

  void grow_synapses(uint64_t seed, int64_t step) override {
    for (int l = 0; l < 3; ++l) {
      if (!growth_[l].size()) continue;
      const int64_t n = pre_[l] * post_[l];
      prims_.apply(E_ * n, kernels::GrowSynapses{sparsity_[l].data(), growth_[l].data(), params_[l], opt_m_[l], opt_v_[l], n,
                                                 seed, uint32_t(l), uint32_t(step)});
      project(l);  // a grown synapse starts at 0 under Dale's law too
    }
  }

  void get_optimizer_state(OptimizerState<float>& s) override {
    download_set(opt_m_, s.m);
    download_set(opt_v_, s.v);
  }
  void set_optimizer_state(const OptimizerState<float>& s) override {
    upload_set(opt_m_, s.m, "optimizer state m");
    upload_set(opt_v_, s.v, "optimizer state v");
  }

  P& primitives() { return prims_; }

  // Forces the recurrence's path or geometry from the next forward() on (tests, benchmarks).
  void set_recurrence(const RecurrenceOptions& o) { recurrence_ = o; }
  // The plan the last forward() (and the BPTT of it) ran.
  const RecurrencePlan& recurrence_plan() const { return plan_; }

 private:
  // BPTT of the last forward from dL/dy (E, T, B, O) and dL/dr (E, T, B, H) or null, into grads_.
  void bptt(const float* gy, const float* gr) {
    const int64_t E = E_, I = I_, H = H_, O = O_, T = T_, B = B_, BH = B * H, state = (T + 1) * BH;
    const float alpha = float(dyn_.alpha);
    for (int k = 0; k < kNumArrays; ++k) resize(grads_.a[k], array_size(k));
    resize(work_, E * T * BH);
    resize(dv_, E * state);
    resize(dr0_, E * BH);
    // work (T B x H) = gy (T B x O) W_out^T (O x H), all steps at once
    prims_.gemm(Op::N, Op::T, T * B, H, O, 1.0f, gy, O, T * B * O, params_[kWOut], O, H * O, 0.0f, work_.data(), H,
                T * BH, E);
    if (plan_.path != RecurrencePath::Sequence)  // the whole loop below in one persistent launch
      run_persistent(prims_, plan_, E,
                     kernels::PersistentBackward{params_[kWHid], work_.data(), gr, v_.data(), dv_.data(), T, alpha,
                                                 dyn_.activation, {}});
    for (int64_t t = T; plan_.path == RecurrencePath::Sequence && t >= 0; --t) {
      float* dr = t >= 1 ? work_.data() + (t - 1) * BH : dr0_.data();
      const int64_t dr_stride = t >= 1 ? T * BH : BH;
      if (t < T)  // dr_t (B x H) += alpha dv_{t+1} (B x H) W_hid^T (H x H); dr_0 = that alone
        prims_.gemm(Op::N, Op::T, B, H, H, alpha, dv_.data() + (t + 1) * BH, H, state, params_[kWHid], H, H * H,
                    t >= 1 ? 1.0f : 0.0f, dr, H, dr_stride, E);
      prims_.apply(E * BH, kernels::LeakyStepBackward{dr, dr_stride, gr && t >= 1 ? gr + (t - 1) * BH : nullptr, T * BH,
                                                      v_.data() + t * BH, t < T ? dv_.data() + (t + 1) * BH : nullptr,
                                                      dv_.data() + t * BH, state, B, H, alpha, dyn_.activation});
    }
    const float* dv1 = dv_.data() + BH;  // dv_1..dv_T: T B rows of H per network
    // dW_hid (H x H) = alpha r_{0..T-1}^T (H x T B) dv_{1..T} (T B x H)
    prims_.gemm(Op::T, Op::N, H, H, T * B, alpha, r_.data(), H, state, dv1, H, state, 0.0f, grads_[kWHid], H, H * H, E);
    // dW_in (I x H) = alpha u^T (I x T B) dv_{1..T} (T B x H)
    prims_.gemm(Op::T, Op::N, I, H, T * B, alpha, u_.data(), I, u_per_network_ ? T * B * I : 0, dv1, H, state, 0.0f,
                grads_[kWIn], H, I * H, E);
    // dW_out (H x O) = r_{1..T}^T (H x T B) gy (T B x O)
    prims_.gemm(Op::T, Op::N, H, O, T * B, 1.0f, r_.data() + BH, H, state, gy, O, T * B * O, 0.0f, grads_[kWOut], O,
                H * O, E);
    // db_hid = db_in = alpha sum_{t,b} dv_t; db_out = sum_{t,b} gy_t; dh0 = sum_b dv_0
    prims_.column_sums(E, T * B, H, dv1, state, alpha, grads_[kBHid], H);
    prims_.copy(grads_[kBIn], grads_[kBHid], E * H);
    prims_.column_sums(E, T * B, O, gy, T * B * O, 1.0f, grads_[kBOut], O);
    prims_.column_sums(E, B, H, dv_.data(), state, 1.0f, grads_[kH0], H);
  }

  void zero_unlearned() {
    for (int k = kBIn; k < kNumArrays; ++k)
      if (!learned(k)) fill(grads_[k], array_size(k), 0.0f);
  }

  void project(int l) {
    if (!sparsity_[l].size() && !ei_[l].size()) return;
    prims_.apply(E_ * pre_[l] * post_[l],
                 kernels::ProjectWeights{params_[l], sparsity_[l].size() ? sparsity_[l].data() : nullptr,
                                         ei_[l].size() ? ei_[l].data() : nullptr});
  }

  bool learned(int k) const { return k < 3 || (k < kH0 ? learnable_.bias[k - kBIn] : learnable_.h0); }

  int64_t array_size(int k) const {
    switch (k) {
      case kWIn: return E_ * I_ * H_;
      case kWHid: return E_ * H_ * H_;
      case kWOut: return E_ * H_ * O_;
      case kBOut: return E_ * O_;
      default: return E_ * H_;
    }
  }

  void require_forward(const char* what) const {
    if (!has_forward_) throw StateError(std::string("ctrnn: ") + what + "() needs a forward() first");
  }

  template <class T>
  void resize(Buf<T>& b, int64_t n) {
    b.resize(size_t(n));
    if (poison_ && n > 0) fill(b.data(), n, std::numeric_limits<T>::quiet_NaN());
  }
  template <class T>
  void fill(T* x, int64_t n, T value) {
    prims_.apply(n, kernels::Fill<T>{x, value});
  }

  void upload_set(ParamBuffers& set, const Params<float>& p, const char* what) {
    const auto arrays = p.arrays();
    for (int k = 0; k < kNumArrays; ++k) {
      if (int64_t(arrays[k]->size()) != array_size(k))
        throw InvalidArgument(std::string(what) + " " + kParamNames[k], std::to_string(array_size(k)) + " values",
                              std::to_string(arrays[k]->size()));
    }
    for (int k = 0; k < kNumArrays; ++k) prims_.upload(set[k], arrays[k]->data(), array_size(k));
  }
  void download_set(ParamBuffers& set, Params<float>& p) {
    p = Params<float>::zeros(E_, I_, H_, O_);
    auto arrays = p.arrays();
    for (int k = 0; k < kNumArrays; ++k) prims_.download(arrays[k]->data(), set[k], array_size(k));
  }
  void upload_optional(Buf<float>& b, const std::vector<float>& host, int64_t n, const char* what) {
    if (!host.empty() && int64_t(host.size()) != n)
      throw InvalidArgument(what, std::to_string(n) + " values (E, pre, post)", std::to_string(host.size()));
    resize(b, int64_t(host.size()));
    if (!host.empty()) prims_.upload(b.data(), host.data(), n);
  }

  P prims_;
  Learnable learnable_;
  bool poison_;
  int64_t E_, I_, H_, O_;
  int64_t pre_[3] = {}, post_[3] = {};
  ParamBuffers params_, grads_, opt_m_, opt_v_;  // opt_m_, opt_v_: Adam moments / SGD momentum
  std::array<Buf<float>, 3> sparsity_, ei_, plasticity_, growth_;  // empty: no such mask

  // The last forward
  int64_t T_ = 0, B_ = 0;
  Dynamics dyn_;
  bool u_per_network_ = false, has_forward_ = false;
  RecurrenceOptions recurrence_;
  RecurrencePlan plan_;
  Buf<float> u_, v_, r_, y_, work_;
  Buf<float> kept_;
  int64_t kept_batch_ = 0;

  // BPTT
  Buf<float> dv_, dr0_, gy_in_, gr_in_;

  // The last loss
  Buf<float> target_, mask_, loss_gy_, loss_gr_, rate_mean_, rate_cv_;
  std::array<Buf<float>, 3> direct_;
  Buf<double> stats_;
  bool has_loss_ = false, loss_has_gr_ = false;

  Buf<double> norm_sq_;
};

}  // namespace ctrnn::detail
