// The CPU backend: the reference forward, loss and BPTT, and the shared per-element update
// bodies in plain loops.
#include <algorithm>
#include <cmath>

#include "backend.hpp"
#include "constraints.hpp"
#include "ctrnn/error.hpp"
#include "kernels/philox.hpp"
#include "kernels/update_bodies.hpp"
#include "memory_budget.hpp"
#include "reference/ctrnn_reference.hpp"
#include "reference/loss_reference.hpp"

namespace ctrnn::detail {

namespace {

template <class T>
class CpuBackend final : public Backend<T> {
 public:
  explicit CpuBackend(const Config& c)
      : learned_(learned_arrays(c)),
        first_network_(c.first_network),
        alpha_min_(T(c.alpha_min())),
        tau_plasticity_(c.tau_plasticity.begin(), c.tau_plasticity.end()) {
    params_ = Params<T>::zeros(c.ensemble_size, c.dims[0], c.dims[1], c.dims[2]);
    grads_ = params_;
    opt_.m = params_;
    opt_.v = params_;
    diverged_.assign(size_t(c.ensemble_size), 0);
  }

  Device device() const override { return Device::Cpu; }
  std::string description() const override { return "cpu (reference)"; }

  void set_params(const Params<T>& p) override { params_ = p; }
  void get_params(Params<T>& p) override { p = params_; }
  void write_params(const std::array<Located<const T>, kNumParamArrays>& src) override {
    auto arrays = params_.arrays();
    for (int k = 0; k < kNumParamArrays; ++k)
      if (src[k]) std::copy(src[k].ptr, src[k].ptr + arrays[k]->size(), arrays[k]->begin());
    for (int l = 0; l < 3; ++l)
      if (src[l]) project(l);
    if (src[kAlpha]) clamp_alpha();
  }
  void set_constraints(const std::array<LayerConstraints<T>, 3>& c) override { constraints_ = c; }
  void get_sparsity(std::array<std::vector<T>, 3>& s) override {
    for (int l = 0; l < 3; ++l) s[l] = constraints_[l].sparsity;
  }

  void forward(const ForwardArgs<T>& a) override {
    const int64_t E = params_.E, B = a.batch, H = params_.H, steps = a.steps;
    // The reference keeps v and r (E, T+1, B, H), draws up to two noise arrays of that size and
    // its BPTT builds about three more: refuse what cannot fit before allocating any of it.
    const std::string what = "(T, B) = (" + std::to_string(steps) + ", " + std::to_string(B) + ")";
    require_memory("inputs", what + " with ensemble_size " + std::to_string(E) + " and " + std::to_string(H) + " neurons",
                   checked_product({7, E, steps + 1, B, H, int64_t(sizeof(T))}, "inputs", what),
                   host_memory_available(), "host memory");
    std::vector<T> v0(E * B * H, T(0));
    if (a.initial == InitialState::H0) {
      for (int64_t e = 0; e < E; ++e)
        for (int64_t i = 0; i < B * H; ++i) v0[e * B * H + i] = params_.h0[e * H + i % H];
    } else if (a.initial == InitialState::Kept) {
      if (kept_batch_ != B) throw StateError("ctrnn: kept state has batch " + std::to_string(kept_batch_));
      v0 = kept_;
    }
    std::vector<T> eps_pre, eps_post;
    eps_pre = noise(RandomPurpose::PreactNoise, a.dynamics.preact_noise, a, B);
    eps_post = noise(RandomPurpose::PostactNoise, a.dynamics.postact_noise, a, B);
    u_.assign(a.u.ptr, a.u.ptr + (a.u_per_network ? E : 1) * steps * B * params_.I);
    u_per_network_ = a.u_per_network;
    dynamics_ = a.dynamics;
    trace_ = reference::forward(params_, a.dynamics, u_.data(), a.u_per_network, steps, B, v0.data(),
                                eps_pre.empty() ? nullptr : eps_pre.data(), eps_post.empty() ? nullptr : eps_post.data());
    if (a.keep_final_state) {
      kept_.resize(E * B * H);
      for (int64_t e = 0; e < E; ++e) std::copy(trace_.v_at(e, steps), trace_.v_at(e, steps) + B * H, &kept_[e * B * H]);
      kept_batch_ = B;
    }
  }

  void read_forward(Located<T> y, Located<T> r) override {
    if (y) std::copy(trace_.y.begin(), trace_.y.end(), y.ptr);
    if (r) {
      const int64_t n = trace_.T * trace_.B * trace_.H;
      for (int64_t e = 0; e < trace_.E; ++e) std::copy(trace_.r_at(e, 1), trace_.r_at(e, 1) + n, r.ptr + e * n);
    }
  }

  void get_kept_state(std::vector<T>& v) override { v = kept_; }
  void set_kept_state(const std::vector<T>& v, int64_t batch) override {
    kept_ = v;
    kept_batch_ = v.empty() ? 0 : batch;
  }

  std::vector<double> loss(const LossArgs<T>& a) override {
    loss_ = reference::loss(params_, trace_, a.target.ptr, a.target_per_network, a.mask.ptr, a.mask_shape, a.weights);
    return std::vector<double>(loss_.terms.begin(), loss_.terms.end());
  }

  void backward(Located<const T> gy, Located<const T> gr, Located<T> du = {}) override {
    grads_ = reference::backward(params_, dynamics_, u_.data(), u_per_network_, trace_, gy.ptr, gr.ptr, du.ptr,
                                 learned_[kAlpha]);
    zero_unlearned(grads_);
  }

  void backward_from_loss() override {
    grads_ = reference::backward(params_, dynamics_, u_.data(), u_per_network_, trace_, loss_.gy.data(), loss_.gr.data(),
                                 static_cast<T*>(nullptr), learned_[kAlpha]);
    for (int l = 0; l < 3; ++l) {
      std::vector<T>& g = grads_.weight(Layer(l));
      const std::vector<T>& d = loss_.direct.weight(Layer(l));
      for (size_t i = 0; i < g.size(); ++i) g[i] += d[i];
    }
    zero_unlearned(grads_);
  }

  void read_gradients(Gradients<T>& g) override { g = grads_; }
  void read_gradient(int k, Located<T> dst) override {
    const std::vector<T>& g = *grads_.arrays()[size_t(k)];
    std::copy(g.begin(), g.end(), dst.ptr);
  }

  std::vector<double> optimizer_step(const OptimizerConfig& opt, int64_t step) override {
    const int64_t E = params_.E;
    auto arrays = params_.arrays();
    auto grads = grads_.arrays();
    auto m = opt_.m.arrays(), v = opt_.v.arrays();
    std::vector<double> norms(E, 0.0);
    for (size_t a = 0; a < arrays.size(); ++a) {
      if (!learned_[a]) continue;
      const int64_t n = int64_t(grads[a]->size()) / E;
      for (int64_t e = 0; e < E; ++e)
        for (int64_t i = 0; i < n; ++i) norms[e] += double((*grads[a])[e * n + i]) * double((*grads[a])[e * n + i]);
    }
    for (double& x : norms) x = std::sqrt(x);
    std::vector<body::AdamCoeffs> adam;  // each network's, from its own lr and weight decay
    for (int64_t e = 0; e < E; ++e) adam.push_back(body::AdamCoeffs::of(opt, step, e));
    // Element i of array a, network e: its new parameter and moments, from the current values.
    auto updated = [&](size_t a, int64_t e, int64_t i, T& p, T& mi, T& vi) {
      // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is < 1.
      const double max_norm = opt.clip_grad_norm[e];
      const T clip = max_norm > 0 ? T(std::min(1.0, max_norm / (norms[e] + 1e-6))) : T(1);
      const std::vector<T>* plasticity = a < 3 ? &constraints_[a].plasticity : nullptr;
      T scale = plasticity && !plasticity->empty() ? (*plasticity)[i] : T(1);
      if (a == kAlpha && !tau_plasticity_.empty()) scale = tau_plasticity_[size_t(i % params_.H)];
      const bool decay = a != kAlpha;  // weight decay would pull alpha to 0 (tau to infinity)
      const T g = (*grads[a])[i] * clip;
      if (opt.kind == OptimizerConfig::Kind::Adam) {
        body::AdamCoeffs c = adam[size_t(e)];
        if (!decay) c.weight_decay = 0;
        body::adam_update(p, g, mi, vi, scale, c);
      } else {
        body::sgd_update(p, g, mi, scale, T(opt.lr[e]), T(opt.momentum[e]), decay ? T(opt.weight_decay[e]) : T(0),
                         step == 1);
      }
    };
    for (int64_t e = 0; e < E; ++e) {
      // A network is updated only when every new value is finite; otherwise it diverges.
      bool ok = !diverged_[e] && std::isfinite(norms[e]);
      for (size_t a = 0; ok && a < arrays.size(); ++a) {
        if (!learned_[a]) continue;
        const int64_t n = int64_t(grads[a]->size()) / E;
        for (int64_t i = e * n; ok && i < (e + 1) * n; ++i) {
          T p = (*arrays[a])[i], mi = (*m[a])[i], vi = (*v[a])[i];
          updated(a, e, i, p, mi, vi);
          ok = body::finite(p) && body::finite(mi) && body::finite(vi);
        }
      }
      if (!ok) {
        diverged_[e] = 1;
        continue;
      }
      for (size_t a = 0; a < arrays.size(); ++a) {
        if (!learned_[a]) continue;
        const int64_t n = int64_t(grads[a]->size()) / E;
        for (int64_t i = e * n; i < (e + 1) * n; ++i) updated(a, e, i, (*arrays[a])[i], (*m[a])[i], (*v[a])[i]);
      }
    }
    for (int l = 0; l < 3; ++l) project(l);
    if (learned_[kAlpha]) clamp_alpha();
    return norms;
  }

  void grow_synapses(uint64_t seed, int64_t step) override {
    for (int l = 0; l < 3; ++l) {
      LayerConstraints<T>& c = constraints_[l];
      if (!c.has_growth()) continue;
      const int64_t n = c.pre * c.post;
      std::vector<T>& w = params_.weight(Layer(l));
      for (int64_t e = 0; e < c.E; ++e) {
        const RandomStream rng(seed, RandomPurpose::Growth, uint32_t(first_network_ + e), uint32_t(l), uint32_t(step));
        for (int64_t i = 0; i < n; ++i) {
          const int64_t k = e * n + i;
          if (!body::grows(c.sparsity[k], c.growth[k], rng.uniform(uint32_t(i)))) continue;
          c.sparsity[k] = T(1);
          w[k] = T(0);
          opt_.m.weight(Layer(l))[k] = opt_.v.weight(Layer(l))[k] = T(0);
        }
      }
      project(l);  // a grown synapse starts at 0 under Dale's law too
    }
  }

  void get_optimizer_state(OptimizerState<T>& s) override { s = opt_; }
  void set_optimizer_state(const OptimizerState<T>& s) override { opt_ = s; }
  std::vector<uint8_t> diverged() const override { return diverged_; }
  void set_diverged(const std::vector<uint8_t>& d) override {
    if (int64_t(d.size()) != params_.E)
      throw InvalidArgument("diverged", std::to_string(params_.E) + " flags (E)", std::to_string(d.size()));
    diverged_ = d;
  }

 private:
  // The standard normals of the networks whose sigma is > 0 (zeros for the others; none at all
  // when no network has noise).
  std::vector<T> noise(RandomPurpose purpose, const std::vector<double>& sigma, const ForwardArgs<T>& a, int64_t B) const {
    const int64_t E = params_.E, H = params_.H;
    if (std::none_of(sigma.begin(), sigma.end(), [](double s) { return s > 0; })) return {};
    std::vector<T> eps(E * a.steps * B * H);
    for (int64_t e = 0; e < E; ++e)
      for (int64_t t = 0; sigma[size_t(e)] > 0 && t < a.steps; ++t) {
        const RandomStream rng(a.seed, purpose, uint32_t(first_network_ + e), uint32_t(t), uint32_t(a.call));
        T* out = &eps[((e * a.steps + t) * B) * H];
        for (int64_t i = 0; i < B * H; ++i) out[i] = T(rng.normal(uint32_t(i)));
      }
    return eps;
  }

  void zero_unlearned(Gradients<T>& g) const {
    const auto arrays = g.arrays();
    for (int k = 0; k < kNumParamArrays; ++k)
      if (!learned_[k]) std::fill(arrays[k]->begin(), arrays[k]->end(), T(0));
  }

  void project(int l) { project_weights(params_.weight(Layer(l)), constraints_[l]); }
  void clamp_alpha() {
    for (T& a : params_.alpha) a = body::clamp_alpha(a, alpha_min_);
  }

  std::array<bool, kNumParamArrays> learned_;  // ParamArray order
  int64_t first_network_;                      // network e draws as network first_network_ + e
  T alpha_min_;                                // a learned alpha stays in [alpha_min_, 1]
  std::vector<T> tau_plasticity_;              // (H) scales of alpha's update; empty: ones
  Params<T> params_;
  Gradients<T> grads_;
  OptimizerState<T> opt_;
  std::vector<uint8_t> diverged_;  // (E)
  std::array<LayerConstraints<T>, 3> constraints_;
  std::vector<T> u_;
  bool u_per_network_ = false;
  Dynamics dynamics_;
  reference::Trace<T> trace_;
  reference::LossResult<T> loss_;
  std::vector<T> kept_;
  int64_t kept_batch_ = 0;
};

}  // namespace

template <class T>
std::unique_ptr<Backend<T>> make_cpu_backend(const Config& c) {
  return std::make_unique<CpuBackend<T>>(c);
}

template std::unique_ptr<Backend<float>> make_cpu_backend<float>(const Config&);

#ifndef CTRNN_WITH_BLAS
std::unique_ptr<Backend<float>> make_host_backend(const Config& c) { return make_cpu_backend<float>(c); }
#endif
template std::unique_ptr<Backend<double>> make_cpu_backend<double>(const Config&);

}  // namespace ctrnn::detail
