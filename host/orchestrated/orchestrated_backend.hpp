#pragma once
// The CUDA backend's sequences, written once against the primitives of primitives.hpp: forward
// (input drive for all T as one GEMM; per step the recurrent GEMM and one fused kernel, or the
// whole loop as one persistent kernel; readout for all T as one GEMM), BPTT (dL/dy through W_out
// for all T as one GEMM; per step the recurrent GEMM and one fused kernel, then the bias and h0
// gradients as column sums, or the whole loop and those sums as one persistent kernel; weight
// gradients as GEMMs over all T; the input gradient, when asked, as one GEMM per network), the
// loss with its gradients, the optimizer step, projection and growth.
// OrchestratedBackend<CudaPrims> is the CUDA backend; OrchestratedBackend<HostPrims> runs the very
// same sequence and bodies on the host, which is what CI compares with the CPU reference. Same semantics as CpuBackend (host/cpu_backend.cpp) in every virtual.
//
// Layout, row-major and time-major (see kernels/leaky_step.hpp):
//   u (E or 1, T, B, I); v, r, dv (E, T+1, B, H); work (E, T, B, H); y, gy (E, T, B, O);
//   parameters (E, pre, post) and (E, post), as in Params.
//
// Each call first sizes every buffer it needs, refusing (InvalidArgument: parameter, bytes
// needed, bytes available) what would not fit, then uploads its inputs with one copy into the
// input arena (per-call scalars | each network's constants | u | target | mask), then runs its sequence as one graph section
// (run_graph, primitives.hpp), which allocates, transfers and synchronizes nothing, and reads back
// only what it returns. A training step (train_step) is one section: forward, loss, BPTT and the
// optimizer update, which the device skips for each network that has diverged (DivergenceGate:
// its loss, gradient norm or update not finite), so the host reads one small report per step.
// State (the last forward's shape, has-forward/has-loss) changes only once a call has succeeded; a
// call that fails after it started overwriting the trace leaves the backend without a forward.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "ctrnn/error.hpp"
#include "memory_budget.hpp"
#include "orchestrated/persistent_recurrence.hpp"
#include "orchestrated/primitives.hpp"
#include "kernels/alpha_gradient.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/leaky_step.hpp"
#include "kernels/loss.hpp"
#include "kernels/update.hpp"

namespace ctrnn::detail {

// What a backend issued, for the launch-count test and benchmark notes. A GEMM is one cuBLAS call,
// an apply or column sum one kernel, a reduce two kernels (CudaPrims's partial sums and finish).
struct LaunchCounts {
  int64_t in_graphs = 0;       // kernels issued inside graph sections (their nodes; CudaPrims
                               // issues them only while it captures a graph)
  int64_t outside_graphs = 0;  // kernels issued one by one
  int64_t graphs = 0;          // graph sections run (CudaPrims: one cudaGraphLaunch each)
  int64_t uploads = 0, downloads = 0;
};

template <class P>
class OrchestratedBackend : public Backend<float> {  // not final: host/cuda binds it to its device
  template <class T>
  using Buf = typename P::template Buffer<T>;

  // The arrays of Params, in ParamArray order.
  struct ParamBuffers {
    std::array<Buf<float>, kNumParamArrays> a;
    float* operator[](int k) { return a[k].data(); }
  };

  // Per-call scalars, then each network's constants (body::NetworkCoeffs, E of them), in memory so
  // that a captured graph reads each call's values.
  struct CallScalars {
    uint32_t call;
  };
  static constexpr size_t kAlign = 256;
  static size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
  static constexpr size_t kOffCoeffs = (sizeof(CallScalars) + alignof(body::NetworkCoeffs) - 1) /
                                       alignof(body::NetworkCoeffs) * alignof(body::NetworkCoeffs);
  size_t coeffs_end() const { return kOffCoeffs + size_t(E_) * sizeof(body::NetworkCoeffs); }

  // Element counts and the input arena's layout of one (T, B) shape.
  struct Shape {
    int64_t T = 0, B = 0;
    bool u_per_network = false;
    int64_t BH = 0, state = 0, trace = 0, work = 0, u = 0, y = 0, target = 0, mask = 0;
    size_t off_u = 0, off_target = 0, off_mask = 0, arena_bytes = 0;
  };

 public:
  // poison: fill every buffer with NaN whenever it is (re)sized for a call, so a read of an
  // element no step wrote shows up as NaN in the results (tests).
  template <class... PrimArgs>
  OrchestratedBackend(const Config& c, bool poison, PrimArgs&&... prim_args)
      : prims_(std::forward<PrimArgs>(prim_args)...),
        learned_(learned_arrays(c)),
        poison_(poison),
        first_network_(uint32_t(c.first_network)),
        alpha_min_(float(c.alpha_min())),
        E_(c.ensemble_size),
        I_(c.dims[0]),
        H_(c.dims[1]),
        O_(c.dims[2]) {
    for (int l = 0; l < 3; ++l) {
      const auto s = c.layer_shape(Layer(l));
      pre_[l] = s[0], post_[l] = s[1];
    }
    // Parameters, gradients and two optimizer moments, plus up to four masks per weight array.
    int64_t params = 0, weights = 0;
    for (int k = 0; k < kNumParamArrays; ++k) params = saturating_add(params, array_size(k));
    for (int l = 0; l < 3; ++l) weights = saturating_add(weights, array_size(l));
    const std::string dims = "[" + std::to_string(I_) + ", " + std::to_string(H_) + ", " + std::to_string(O_) +
                             "] with ensemble_size " + std::to_string(E_);
    const int64_t floats = saturating_add(checked_product({params, 4}, "dims", dims), checked_product({weights, 4}, "dims", dims));
    require_memory("dims", dims, checked_product({floats, int64_t(sizeof(float))}, "dims", dims),
                   memory_available(prims_), where());
    for (ParamBuffers* set : {&params_, &grads_, &opt_m_, &opt_v_})
      for (int k = 0; k < kNumParamArrays; ++k) {
        resize(set->a[k], array_size(k));
        fill(set->a[k].data(), array_size(k), 0.0f);
      }
    resize(arrivals_, checked_product({E_, int64_t(kMaxClusterSize)}, "dims", dims));
    fill(arrivals_.data(), int64_t(arrivals_.size()), uint32_t(0));
    resize(diverged_, E_);
    fill(diverged_.data(), E_, 0.0);
    diverged_host_.assign(size_t(E_), 0);
    resize(dynamics_, 2 * E_);
    set_dynamics(c.dynamics(true));
    if (!c.tau_plasticity.empty()) {  // (H) -> (E, H): OptimizerUpdate's plasticity layout
      std::vector<float> scales(size_t(E_ * H_));
      for (size_t i = 0; i < scales.size(); ++i) scales[i] = float(c.tau_plasticity[i % size_t(H_)]);
      resize(tau_plasticity_, E_ * H_);
      upload(tau_plasticity_.data(), scales.data(), E_ * H_);
    }
  }

  Device device() const override { return prims_.device(); }
  std::string description() const override { return prims_.description(); }
  Location location() const override { return location_of(prims_); }
  void order_after(Stream s) override { wait_for_stream(prims_, s); }
  void order_before(Stream s) override { signal_stream(prims_, s); }

  void set_params(const Params<float>& p) override { upload_set(params_, p, "params"); }
  void get_params(Params<float>& p) override { download_set(params_, p); }
  void write_params(const std::array<Located<const float>, kNumParamArrays>& src) override {
    for (int k = 0; k < kNumParamArrays; ++k)
      if (src[k]) transfer_in(params_[k], src[k], array_size(k));
    for (int l = 0; l < 3; ++l)
      if (src[l]) project(l);
    if (src[kAlpha]) clamp_alpha();
  }

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
      if (!s[l].empty()) download(s[l].data(), sparsity_[l].data(), int64_t(s[l].size()));
    }
  }

  void forward(const ForwardArgs<float>& a) override {
    const Shape sh = shape_of(a);
    check_forward(a, sh);
    const RecurrencePlan plan = plan_for(prims_, recurrence_, E_, sh.B, H_);  // may refuse: before any change
    reserve([&](auto&& need) { forward_buffers(sh, a.keep_final_state, need); }, sh);
    begin_forward();
    set_dynamics(a.dynamics);
    upload_inputs(sh, a, nullptr, OptimizerConfig{}, 0);
    graph(key("forward", sh, a) + plan_key(plan), [&] { forward_sequence(sh, a, plan); });
    end_forward(sh, a);
    plan_ = plan;
  }

  void read_forward(Located<float> y, Located<float> r) override {
    require_forward("read_forward");
    const int64_t BH = B_ * H_;
    if (y) transfer_out(y, y_.data(), E_ * T_ * B_ * O_);
    for (int64_t e = 0; r && e < E_; ++e)
      transfer_out({r.ptr + e * T_ * BH, r.memory}, r_.data() + (e * (T_ + 1) + 1) * BH, T_ * BH);
  }

  void get_kept_state(std::vector<float>& v) override {
    v.assign(kept_batch_ ? kept_.size() : 0, 0.0f);
    if (!v.empty()) download(v.data(), kept_.data(), int64_t(v.size()));
  }
  void set_kept_state(const std::vector<float>& v, int64_t batch) override {
    if (!v.empty() && int64_t(v.size()) != E_ * batch * H_)
      throw InvalidArgument("kept state", std::to_string(E_ * batch * H_) + " values (E, B, H)", std::to_string(v.size()));
    resize(kept_, int64_t(v.size()));
    if (!v.empty()) upload(kept_.data(), v.data(), int64_t(v.size()));
    kept_batch_ = v.empty() ? 0 : batch;
  }

  std::vector<double> loss(const LossArgs<float>& a) override {
    require_forward("loss");
    const Shape sh = current_shape();
    reserve([&](auto&& need) { loss_buffers(sh, a.weights, need); }, sh);
    has_loss_ = false;
    set_loss_flags(a.weights);
    upload_inputs(sh, ForwardArgs<float>{}, &a, OptimizerConfig{}, 0);
    graph(key("loss", sh, a), [&] { loss_sequence(sh, a); });
    std::vector<double> terms(size_t(E_ * kNumLossTerms));
    download(terms.data(), report_.data(), int64_t(terms.size()));
    has_loss_ = true;
    return terms;
  }

  void backward(Located<const float> gy, Located<const float> gr, Located<float> du = {}) override {
    require_forward("backward");
    const Shape sh = current_shape();
    const int64_t n_y = E_ * sh.y, n_r = E_ * sh.T * sh.BH, n_u = sh.u;
    reserve(
        [&](auto&& need) {
          bptt_buffers(sh, plan_, need);
          need(gy_in_, n_y);
          if (gr) need(gr_in_, n_r);
          if (du) need(du_, n_u);
        },
        sh);
    transfer_in(gy_in_.data(), gy, n_y);
    if (gr) transfer_in(gr_in_.data(), gr, n_r);
    bptt(sh, dyn_, plan_, gy_in_.data(), gr ? gr_in_.data() : nullptr);
    if (du) {
      input_gradient(sh, du_.data());
      transfer_out(du, du_.data(), n_u);
    }
  }

  void backward_from_loss() override {
    if (!has_loss_) throw StateError("ctrnn: backward_from_loss() needs a loss() of the last forward first");
    const Shape sh = current_shape();
    reserve([&](auto&& need) { bptt_buffers(sh, plan_, need); }, sh);
    backward_from_loss_sequence(sh, dyn_, plan_);
  }

  void read_gradients(Gradients<float>& g) override { download_set(grads_, g); }
  void read_gradient(int k, Located<float> dst) override { transfer_out(dst, grads_[k], array_size(k)); }

  std::vector<double> optimizer_step(const OptimizerConfig& opt, int64_t step) override {
    reserve(
        [&](auto&& need) {
          need(report_, report_size());
          need(status_, 3 * E_);
          // room for the scalars and each network's constants
          need(arena_, std::max<int64_t>(int64_t(arena_.size()), int64_t(coeffs_end())));
        },
        std::string("optimizer step"));
    upload_scalars(opt, step, 0);
    optimizer_sequence(opt, step, nullptr);
    return read_norms();
  }

  StepResult train_step(const ForwardArgs<float>& f, const LossArgs<float>& l, const OptimizerConfig& opt,
                        int64_t step) override {
    const Shape sh = shape_of(f);
    check_forward(f, sh);
    const RecurrencePlan plan = plan_for(prims_, recurrence_, E_, sh.B, H_);  // may refuse: before any change
    reserve(
        [&](auto&& need) {
          forward_buffers(sh, f.keep_final_state, need);
          loss_buffers(sh, l.weights, need);
          bptt_buffers(sh, plan, need);
        },
        sh);
    begin_forward();
    set_dynamics(f.dynamics);
    set_loss_flags(l.weights);
    upload_inputs(sh, f, &l, opt, step);
    graph(key("step", sh, f, l, opt, step == 1) + plan_key(plan), [&] {
      forward_sequence(sh, f, plan);
      loss_sequence(sh, l);
      backward_from_loss_sequence(sh, f.dynamics, plan);  // dyn_, plan_ are set once the step has run
      optimizer_sequence(opt, step, status_.data());  // LossTerms's flags
    });
    end_forward(sh, f);
    plan_ = plan;
    has_loss_ = true;
    std::vector<double> report(static_cast<size_t>(report_size()));
    download(report.data(), report_.data(), report_size());
    StepResult r;
    r.terms.assign(report.begin(), report.begin() + E_ * kNumLossTerms);
    r.grad_norm = norms_and_diverged(report.data() + E_ * kNumLossTerms);
    r.diverged = diverged_host_;
    return r;
  }

  void grow_synapses(uint64_t seed, int64_t step) override {
    for (int l = 0; l < 3; ++l) {
      if (!growth_[l].size()) continue;
      const int64_t n = pre_[l] * post_[l];
      apply(E_ * n, kernels::GrowSynapses{sparsity_[l].data(), growth_[l].data(), params_[l], opt_m_[l], opt_v_[l], n,
                                          seed, uint32_t(l), uint32_t(step), first_network_});
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
  std::vector<uint8_t> diverged() const override { return diverged_host_; }
  void set_diverged(const std::vector<uint8_t>& d) override {
    if (int64_t(d.size()) != E_) throw InvalidArgument("diverged", std::to_string(E_) + " flags (E)", std::to_string(d.size()));
    const std::vector<double> flags(d.begin(), d.end());
    upload(diverged_.data(), flags.data(), E_);
    diverged_host_ = d;
  }

  P& primitives() { return prims_; }

  // Forces the recurrence's path or geometry from the next forward() on (tests, benchmarks).
  void set_recurrence(const RecurrenceOptions& o) { recurrence_ = o; }
  // The plan the last forward() (and the BPTT of it) ran.
  const RecurrencePlan& recurrence_plan() const { return plan_; }
  const LaunchCounts& launch_counts() const { return counts_; }
  // Bytes held by every buffer (capacities), the input arena's host image aside.
  int64_t buffer_bytes() const {
    int64_t bytes = 0;
    auto add = [&](const auto& b) { bytes += int64_t(b.capacity() * sizeof(*b.data())); };
    for (const ParamBuffers* set : {&params_, &grads_, &opt_m_, &opt_v_})
      for (const auto& b : set->a) add(b);
    for (const auto* masks : {&sparsity_, &ei_, &plasticity_, &growth_, &direct_})
      for (const auto& b : *masks) add(b);
    for (const Buf<float>* b : {&v_, &r_, &y_, &work_, &kept_, &dv_, &dr0_, &w_t_, &gy_in_, &gr_in_, &du_, &tile_sums_,
                                &loss_gy_, &loss_gr_, &rate_mean_, &rate_cv_})
      add(*b);
    add(stats_), add(report_), add(status_), add(diverged_), add(arena_), add(arrivals_), add(dynamics_);
    add(tau_plasticity_);
    return bytes;
  }

 private:
  // ---- Sizes, buffers and the input arena

  Shape shape_of(const ForwardArgs<float>& a) const {
    Shape s;
    s.T = a.steps, s.B = a.batch, s.u_per_network = a.u_per_network;
    if (s.T <= 0 || s.B <= 0)
      throw InvalidArgument("inputs", "T >= 1 and B >= 1", std::to_string(s.T) + ", " + std::to_string(s.B));
    const std::string what = "(T, B) = (" + std::to_string(s.T) + ", " + std::to_string(s.B) + ")";
    s.BH = checked_product({s.B, H_}, "inputs", what);
    s.state = checked_product({s.T + 1, s.BH}, "inputs", what);
    s.trace = checked_product({E_, s.state}, "inputs", what);
    s.work = checked_product({E_, s.T, s.BH}, "inputs", what);
    s.u = checked_product({a.u_per_network ? E_ : 1, s.T, s.B, I_}, "inputs", what);
    s.y = checked_product({s.T, s.B, O_}, "inputs", what);  // per network
    s.target = checked_product({E_, s.y}, "inputs", what);  // room for a per-network target
    s.mask = s.y;
    s.off_u = aligned(coeffs_end());
    s.off_target = aligned(s.off_u + size_t(checked_product({s.u, int64_t(sizeof(float))}, "inputs", what)));
    s.off_mask = aligned(s.off_target + size_t(checked_product({s.target, int64_t(sizeof(float))}, "inputs", what)));
    s.arena_bytes = s.off_mask + size_t(s.mask) * sizeof(float);
    return s;
  }
  Shape current_shape() const {
    ForwardArgs<float> a;
    a.steps = T_, a.batch = B_, a.u_per_network = u_per_network_;
    return shape_of(a);
  }

  void check_forward(const ForwardArgs<float>& a, const Shape&) const {
    if (a.initial == InitialState::Kept && kept_batch_ != a.batch)
      throw StateError("ctrnn: kept state has batch " + std::to_string(kept_batch_));
  }

  // The buffers of each part, as need(buffer, elements) calls (reserve() sizes them).
  template <class Need>
  void forward_buffers(const Shape& sh, bool keep, Need&& need) {
    need(arena_, int64_t(sh.arena_bytes));
    need(v_, sh.trace);
    need(r_, sh.trace);
    need(work_, sh.work);
    need(y_, E_ * sh.y);
    // kept_ holds the carried state the forward may start from: sized (and poisoned) only when
    // it holds none for this batch.
    if (keep && kept_batch_ != sh.B) need(kept_, E_ * sh.BH);
  }
  template <class Need>
  void loss_buffers(const Shape& sh, const LossWeights& w, Need&& need) {
    need(arena_, int64_t(sh.arena_bytes));
    need(loss_gy_, E_ * sh.y);
    if (w.used(kLossFr) || w.used(kLossFrSd) || w.used(kLossFrCv)) need(loss_gr_, sh.work);  // dL/dr only when used
    if (w.used(kLossFr) || w.used(kLossFrSd)) need(rate_mean_, E_ * H_);
    if (w.used(kLossFrCv)) need(rate_cv_, E_ * sh.BH);
    const LossTerm weight_terms[3] = {kLossIn, kLossHid, kLossOut};
    for (int l = 0; l < 3; ++l)
      if (w.used(weight_terms[l])) need(direct_[l], E_ * pre_[l] * post_[l]);
    need(stats_, kernels::kNumStats * E_);
    need(report_, report_size());
    need(status_, 3 * E_);
  }
  template <class Need>
  void bptt_buffers(const Shape& sh, const RecurrencePlan& plan, Need&& need) {
    need(work_, sh.work);
    need(dv_, sh.trace);
    if (kTransposesForNnProducts<P>) need(w_t_, E_ * H_ * (H_ + O_));
    if (folds_alpha(plan)) need(alpha_terms_, E_ * sh.BH);
    if (plan.path == RecurrencePath::Sequence)
      need(dr0_, E_ * sh.BH);
    else if (plan.geometry.tiles > 1)
      need(tile_sums_, E_ * plan.geometry.tiles * 2 * H_);
    need(report_, report_size());
  }
  int64_t report_size() const { return E_ * kNumLossTerms + 2 * E_; }  // terms | squared norms | diverged

  // Sizes what `parts` names, after checking that the growth fits in memory: refused calls
  // change nothing.
  template <class Parts>
  void reserve(Parts&& parts, const Shape& sh) {
    reserve(parts, "(T, B) = (" + std::to_string(sh.T) + ", " + std::to_string(sh.B) + ")");
  }
  template <class Parts>
  void reserve(Parts&& parts, const std::string& what) {
    int64_t bytes = 0;
    parts([&](auto& buf, int64_t n) {
      using T = std::decay_t<decltype(*buf.data())>;
      const int64_t cap = int64_t(buf.capacity());
      if (n > cap) bytes = saturating_add(bytes, checked_product({n - cap, int64_t(sizeof(T))}, "inputs", what));
    });
    if (bytes > 0)  // asked only when something grows: the steady state makes no query
      require_memory("inputs", what + " with ensemble_size " + std::to_string(E_) + " and " + std::to_string(H_) +
                                   " neurons",
                     bytes, memory_available(prims_), where());
    parts([&](auto& buf, int64_t n) { resize(buf, n); });
    reserve_reductions(prims_, E_);
  }
  std::string where() const { return prims_.device() == Device::Cuda ? "device memory" : "host memory"; }

  float* arena_floats(size_t offset) { return reinterpret_cast<float*>(arena_.data() + offset); }
  CallScalars* arena_scalars() { return reinterpret_cast<CallScalars*>(arena_.data()); }

  // The call's scalars, each network's constants (from `opt` at `step` and the loss weights), u,
  // target and mask into the arena: the host ones packed and uploaded (one upload for spans that
  // meet across alignment padding), then the device ones copied in place on the device, so that a
  // graph reads each call's inputs at the same addresses. Only the call's own parts are written: a
  // loss leaves the u its forward put in the arena as it is (BPTT reads it).
  void upload_inputs(const Shape& sh, const ForwardArgs<float>& f, const LossArgs<float>* l,
                     const OptimizerConfig& opt, int64_t step) {
    struct Part {
      Located<const float> src;
      size_t offset;
      int64_t n;
    };
    std::vector<Part> parts;  // in arena order
    if (f.u) parts.push_back({f.u, sh.off_u, sh.u});
    if (l) {
      parts.push_back({l->target, sh.off_target, (l->target_per_network ? E_ : 1) * sh.y});
      if (l->mask && l->mask_shape != LossMask::None)
        parts.push_back({l->mask, sh.off_mask, l->mask_shape == LossMask::TimeBatch ? sh.T * sh.B : sh.y});
    }
    std::vector<std::pair<size_t, size_t>> spans{{f.u ? 0 : kOffCoeffs, coeffs_end()}};  // [begin, end) bytes
    for (const Part& p : parts) {
      if (p.src.on_device()) continue;
      const size_t end = p.offset + size_t(p.n) * sizeof(float);
      if (p.offset <= aligned(spans.back().second)) spans.back().second = end;
      else spans.push_back({p.offset, end});
    }
    pack_.resize(std::max(pack_.size(), spans.back().second));
    if (f.u) {
      const CallScalars s{uint32_t(f.call)};
      std::memcpy(pack_.data(), &s, sizeof s);
    }
    pack_coeffs(opt, l ? l->weights : LossWeights{}, step);
    for (const Part& p : parts)
      if (!p.src.on_device()) std::memcpy(pack_.data() + p.offset, p.src.ptr, size_t(p.n) * sizeof(float));
    for (const auto& [begin, end] : spans) upload(arena_.data() + begin, pack_.data() + begin, int64_t(end - begin));
    for (const Part& p : parts)
      if (p.src.on_device()) copy(arena_floats(p.offset), p.src.ptr, p.n);
  }
  // n floats from host or device memory into a buffer, and from a buffer out to host or device
  // memory (device to device: no host round trip, nothing waits).
  void transfer_in(float* dst, Located<const float> src, int64_t n) {
    if (src.on_device()) copy(dst, src.ptr, n);
    else upload(dst, src.ptr, n);
  }
  void transfer_out(Located<float> dst, const float* src, int64_t n) {
    if (dst.on_device()) copy(dst.ptr, src, n);
    else download(dst.ptr, src, n);
  }
  void upload_scalars(const OptimizerConfig& opt, int64_t step, uint32_t call) {
    pack_.resize(coeffs_end());
    const CallScalars s{call};
    std::memcpy(pack_.data(), &s, sizeof s);
    pack_coeffs(opt, LossWeights{}, step);
    upload(arena_.data(), pack_.data(), int64_t(pack_.size()));
  }
  // Each network's constants into the host image (pack_ holds at least coeffs_end() bytes).
  void pack_coeffs(const OptimizerConfig& opt, const LossWeights& w, int64_t step) {
    for (int64_t e = 0; e < E_; ++e) {
      const body::NetworkCoeffs c = body::NetworkCoeffs::of(opt, w, step, e);
      std::memcpy(pack_.data() + kOffCoeffs + size_t(e) * sizeof c, &c, sizeof c);
    }
  }
  const body::NetworkCoeffs* coeffs() { return reinterpret_cast<const body::NetworkCoeffs*>(arena_.data() + kOffCoeffs); }

  // ---- The dynamics buffer: sigma_pre (E) | sigma_post (E), uploaded when a forward's values
  // differ from the last ones (mode changes), outside graph sections. alpha is a parameter array.

  void set_dynamics(const Dynamics& d) {
    if (d.networks() != E_ || int64_t(d.postact_noise.size()) != E_)
      throw InvalidArgument("dynamics", std::to_string(E_) + " sigmas of each noise (E)",
                            std::to_string(d.preact_noise.size()) + " and " + std::to_string(d.postact_noise.size()));
    std::vector<float> image(size_t(2 * E_));
    for (int64_t e = 0; e < E_; ++e) {
      image[size_t(e)] = float(d.preact_noise[size_t(e)]);
      image[size_t(E_ + e)] = float(d.postact_noise[size_t(e)]);
    }
    if (image == dynamics_host_) return;
    upload(dynamics_.data(), image.data(), int64_t(image.size()));
    dynamics_host_ = std::move(image);
  }
  const float* alpha() { return params_[kAlpha]; }
  const float* sigma_pre() { return dynamics_.data(); }
  const float* sigma_post() { return dynamics_.data() + E_; }

  // ---- State transitions

  void begin_forward() { has_forward_ = has_loss_ = false; }  // the trace is about to change
  void end_forward(const Shape& sh, const ForwardArgs<float>& a) {
    T_ = sh.T, B_ = sh.B, u_per_network_ = sh.u_per_network;
    dyn_ = a.dynamics;
    if (a.keep_final_state) kept_batch_ = sh.B;
    has_forward_ = true;
  }

  // ---- Sequences (no allocation, transfer or synchronization: they may be captured as graphs)

  void forward_sequence(const Shape& sh, const ForwardArgs<float>& a, const RecurrencePlan& plan) {
    const int64_t E = E_, I = I_, H = H_, O = O_, T = sh.T, B = sh.B, BH = sh.BH, state = sh.state;
    const float* u = arena_floats(sh.off_u);
    const Activation act = a.dynamics.activation;
    // v_0, r_0 = f(v_0)
    apply(E * BH, kernels::InitialStateBody{a.initial == InitialState::H0 ? params_[kH0] : nullptr,
                                            a.initial == InitialState::Kept ? kept_.data() : nullptr, v_.data(),
                                            r_.data(), state, B, H, act});
    // Input drive of all T steps: work (T B x H) = u (T B x I) W_in (I x H), per network.
    gemm(Op::N, Op::N, T * B, H, I, 1.0f, u, I, a.u_per_network ? T * B * I : 0, params_[kWIn], H, I * H, 0.0f,
         work_.data(), H, T * BH, E);
    if (plan.path != RecurrencePath::Sequence)  // the whole loop below in one persistent launch
      persistent(plan, kernels::PersistentForward{{}, params_[kWHid], params_[kBIn], params_[kBHid], work_.data(),
                                                  v_.data(), r_.data(), T, alpha(), sigma_pre(), sigma_post(), act,
                                                  a.seed, &arena_scalars()->call, {}, first_network_});
    for (int64_t t = 1; plan.path == RecurrencePath::Sequence && t <= T; ++t) {
      float* drive = work_.data() + (t - 1) * BH;
      // drive_t (B x H) += r_{t-1} (B x H) W_hid (H x H)
      gemm(Op::N, Op::N, B, H, H, 1.0f, r_.data() + (t - 1) * BH, H, state, params_[kWHid], H, H * H, 1.0f, drive, H,
           T * BH, E);
      apply(E * BH, kernels::LeakyStepForward{drive, T * BH, params_[kBIn], params_[kBHid], v_.data() + (t - 1) * BH,
                                              v_.data() + t * BH, r_.data() + t * BH, state, B, H, alpha(),
                                              sigma_pre(), sigma_post(), act, a.seed, uint32_t(t - 1),
                                              &arena_scalars()->call, first_network_});
    }
    // Readout of all T steps: y (T B x O) = b_out + r_{1..T} (T B x H) W_out (H x O).
    apply(E * sh.y, kernels::BroadcastRows{y_.data(), params_[kBOut], T * B, O});
    gemm(Op::N, Op::N, T * B, O, H, 1.0f, r_.data() + BH, H, state, params_[kWOut], O, H * O, 1.0f, y_.data(), O,
         sh.y, E);
    if (a.keep_final_state) apply(E * BH, kernels::GatherSlabs{kept_.data(), v_.data() + T * BH, BH, state});
  }

  void loss_sequence(const Shape& sh, const LossArgs<float>& a) {
    using namespace kernels;
    const int64_t E = E_, T = sh.T, B = sh.B, H = H_, BH = sh.BH, TBO = sh.y;
    const LossWeights& w = a.weights;
    const float* target = arena_floats(sh.off_target);
    const float* mask = a.mask && a.mask_shape != LossMask::None ? arena_floats(sh.off_mask) : nullptr;
    const LossMask mask_shape = mask ? a.mask_shape : LossMask::None;
    const int64_t target_stride = a.target_per_network ? TBO : 0;
    double* stats = stats_.data();

    // MSE and dL/dy
    reduce(E, TBO, MseNumerator{y_.data(), target, target_stride, mask, mask_shape, TBO, O_},
           stats + kStatMseNum * E);
    // Without a mask the denominator is the count TBO: the sum of TBO ones in double, the same
    // bits, without a pass over (T, B, O).
    if (mask)
      reduce(E, TBO, MseDenominator{mask, mask_shape, O_}, stats + kStatMseDen * E);
    else
      fill(stats + kStatMseDen * E, E, double(TBO));
    apply(E * TBO, MseGrad{y_.data(), target, target_stride, mask, mask_shape, TBO, O_, stats, E, coeffs(),
                           loss_gy_.data()});
    // Weight terms and their direct gradients (only where the lambda is not 0)
    const LossTerm weight_terms[3] = {kLossIn, kLossHid, kLossOut};
    for (int l = 0; l < 3; ++l) {
      if (!has_direct_[l]) continue;
      const int64_t n = pre_[l] * post_[l];
      reduce(E, n, SumOfSquares{params_[l], n}, stats + (kStatSsIn + l) * E);
      apply(E * n, WeightTermGrad{params_[l], direct_[l].data(), coeffs(), weight_terms[l], n});
    }
    // Firing-rate terms: dL/dr over r_1..r_T
    if (loss_has_gr_) fill(loss_gr_.data(), E * T * BH, 0.0f);
    if (w.used(kLossFr) || w.used(kLossFrSd)) {
      // m_h = mean_{t,b} r
      prims_column_sums(E, T * B, H, r_.data() + BH, sh.state, 1.0f / float(T * B), rate_mean_.data(), H);
      reduce(E, H, SquaredMeanRate{rate_mean_.data(), H}, stats + kStatFrSum * E);
      if (w.used(kLossFrSd)) reduce(E, H, SquaredMeanRateVariance{rate_mean_.data(), stats, E, H}, stats + kStatFrVar * E);
      apply(E * T * BH, FiringRateGrad{rate_mean_.data(), stats, E, T, B, H, coeffs(),
                                       loss_gr_.data()});
    }
    if (w.used(kLossFrCv)) {
      // c_{b,h} = mean_t |r|
      apply(E * BH, MeanAbsRate{r_.data(), rate_cv_.data(), T, B, H});
      reduce(E, BH, CvSum{rate_cv_.data(), BH}, stats + kStatCvSum * E);
      reduce(E, BH, CvVariance{rate_cv_.data(), stats, E, BH}, stats + kStatCvVar * E);
      apply(E * T * BH, CvGrad{r_.data(), rate_cv_.data(), stats, E, T, B, H, coeffs(), loss_gr_.data()});
    }
    LossTerms terms{stats, E, H, BH, {pre_[0] * post_[0], pre_[1] * post_[1], pre_[2] * post_[2]}, coeffs(),
                    report_.data(), status_.data()};
    apply(1, terms);
  }

  // Which gradients the loss hands BPTT (host state: set before a section, which may be replayed).
  void set_loss_flags(const LossWeights& w) {
    loss_has_gr_ = w.used(kLossFr) || w.used(kLossFrSd) || w.used(kLossFrCv);
    const LossTerm weight_terms[3] = {kLossIn, kLossHid, kLossOut};
    for (int l = 0; l < 3; ++l) has_direct_[l] = w.used(weight_terms[l]);
  }

  void backward_from_loss_sequence(const Shape& sh, const Dynamics& dyn, const RecurrencePlan& plan) {
    bptt(sh, dyn, plan, loss_gy_.data(), loss_has_gr_ ? loss_gr_.data() : nullptr);
    for (int l = 0; l < 3; ++l)
      if (has_direct_[l]) apply(E_ * pre_[l] * post_[l], kernels::AddInto{grads_[l], direct_[l].data()});
  }

  // BPTT of the forward with dynamics `dyn` (its activation; alpha: the parameter array) from dL/dy
  // (E, T, B, O) and dL/dr (E, T, B, H) or null, into grads_. The step bodies replace each
  // work slab t - 1 with alpha * dv_t (dL/da_t), which the GEMMs below read.
  void bptt(const Shape& sh, const Dynamics& dyn, const RecurrencePlan& plan, const float* gy, const float* gr) {
    const int64_t E = E_, I = I_, H = H_, O = O_, T = sh.T, B = sh.B, BH = sh.BH, state = sh.state;
    // W_out^T and W_hid^T: NT products of the weights, or NN products of transposed copies
    // (primitives.hpp's kTransposesForNnProducts; OpenBLAS: bench/RESULTS.md, issue 19)
    Op w_op = Op::T;
    const float* w_out_t = params_[kWOut];
    const float* w_hid_t = params_[kWHid];
    int64_t ld_out_t = O;
    if constexpr (kTransposesForNnProducts<P>) {
      prims_.transpose(E, H, O, params_[kWOut], w_t_.data());
      prims_.transpose(E, H, H, params_[kWHid], w_t_.data() + E * H * O);
      w_op = Op::N, w_out_t = w_t_.data(), w_hid_t = w_t_.data() + E * H * O, ld_out_t = H;
    }
    // work (T B x H) = gy (T B x O) W_out^T (O x H), all steps at once
    gemm(Op::N, w_op, T * B, H, O, 1.0f, gy, O, sh.y, w_out_t, ld_out_t, H * O, 0.0f, work_.data(), H, T * BH, E);
    if (plan.path != RecurrencePath::Sequence)  // the whole loop below, and the bias and h0 sums, in one launch
      persistent(plan, kernels::PersistentBackward{{}, params_[kWHid], work_.data(), gr, v_.data(), dv_.data(),
                                                   learned(kBHid) ? grads_[kBHid] : nullptr,
                                                   learned(kBIn) ? grads_[kBIn] : nullptr,
                                                   learned(kH0) ? grads_[kH0] : nullptr, tile_sums_.data(),
                                                   arrivals_.data(), T, alpha(), dyn.activation, {}});
    // learn_tau where P adds alpha's gradient terms in the step's rows (primitives.hpp): into
    // alpha_terms_ (E, B, H), summed over b below; else a pass over the traces after the loop
    const bool fold_alpha = folds_alpha(plan);
    if (fold_alpha) fill(alpha_terms_.data(), E * BH, 0.0f);
    for (int64_t t = T; plan.path == RecurrencePath::Sequence && t >= 0; --t) {
      float* dr = t >= 1 ? work_.data() + (t - 1) * BH : dr0_.data();
      const int64_t dr_stride = t >= 1 ? T * BH : BH;
      if (t < T)  // dr_t (B x H) += (alpha * dv_{t+1}) (B x H) W_hid^T (H x H); dr_0 = that alone
        gemm(Op::N, w_op, B, H, H, 1.0f, work_.data() + t * BH, H, T * BH, w_hid_t, H, H * H, t >= 1 ? 1.0f : 0.0f,
             dr, H, dr_stride, E);
      const kernels::LeakyStepBackward step{dr, dr_stride, gr && t >= 1 ? gr + (t - 1) * BH : nullptr, T * BH,
                                            v_.data() + t * BH, t < T ? dv_.data() + (t + 1) * BH : nullptr,
                                            dv_.data() + t * BH, state, B, H, alpha(), dyn.activation, t >= 1};
      if constexpr (kFoldsAlphaGradient<P>) {
        if (fold_alpha) {
          count(1);
          prims_.apply(E * BH, step, alpha_terms_.data());
          continue;
        }
      }
      apply(E * BH, step);
    }
    const float* adv = work_.data();  // alpha * dv_{1..T}: T B rows of H per network
    const float* u = arena_floats(sh.off_u);
    // dW_hid (H x H) = r_{0..T-1}^T (H x T B) (alpha * dv_{1..T}) (T B x H)
    gemm(Op::T, Op::N, H, H, T * B, 1.0f, r_.data(), H, state, adv, H, T * BH, 0.0f, grads_[kWHid], H, H * H, E);
    // dW_in (I x H) = u^T (I x T B) (alpha * dv_{1..T}) (T B x H)
    gemm(Op::T, Op::N, I, H, T * B, 1.0f, u, I, sh.u_per_network ? T * B * I : 0, adv, H, T * BH, 0.0f, grads_[kWIn],
         H, I * H, E);
    // dW_out (H x O) = r_{1..T}^T (H x T B) gy (T B x O)
    gemm(Op::T, Op::N, H, O, T * B, 1.0f, r_.data() + BH, H, state, gy, O, sh.y, 0.0f, grads_[kWOut], O, H * O, E);
    // db_hid = db_in = sum_{t,b} alpha * dv_t; dh0 = sum_b dv_0 (the persistent kernel summed
    // them); db_out = sum_{t,b} gy_t. Only the learned ones: the others stay at the zeros they were
    // given at construction.
    if (plan.path == RecurrencePath::Sequence) {
      float* db = learned(kBHid) ? grads_[kBHid] : learned(kBIn) ? grads_[kBIn] : nullptr;
      if (db) prims_column_sums(E, T * B, H, adv, T * BH, 1.0f, db, H);
      if (learned(kBHid) && learned(kBIn)) copy(grads_[kBIn], grads_[kBHid], E * H);
      if (learned(kH0)) prims_column_sums(E, B, H, dv_.data(), state, 1.0f, grads_[kH0], H);
    }
    if (learned(kBOut)) prims_column_sums(E, T * B, O, gy, sh.y, 1.0f, grads_[kBOut], O);
    if (fold_alpha) {
      prims_column_sums(E, B, H, alpha_terms_.data(), BH, 1.0f, grads_[kAlpha], H);
    } else if (learned(kAlpha)) {  // after every reader of dv_ (dh0's sums): the terms replace dv_1..T
      apply(E * state - BH, kernels::AlphaGradientTerms{dv_.data() + BH, v_.data() + BH, BH});
      prims_column_sums(E, T * B, H, dv_.data() + BH, state, 1.0f, grads_[kAlpha], H);
    }
    if (learned(kAlpha)) apply(E * H, kernels::DivideByAlpha{grads_[kAlpha], alpha()});
  }

  // dL/du of the last BPTT: du (T B x I) = (alpha * dv_{1..T}) (T B x H) W_in^T (H x I), per
  // network for a per-network u, else summed over the networks (one accumulating GEMM per network).
  void input_gradient(const Shape& sh, float* du) {
    const int64_t E = E_, I = I_, H = H_, TB = sh.T * sh.B;
    const float* adv = work_.data();
    if (sh.u_per_network)
      gemm(Op::N, Op::T, TB, I, H, 1.0f, adv, H, TB * H, params_[kWIn], H, I * H, 0.0f, du, I, TB * I, E);
    else
      for (int64_t e = 0; e < E; ++e)
        gemm(Op::N, Op::T, TB, I, H, 1.0f, adv + e * TB * H, H, 0, params_[kWIn] + e * I * H, H, 0,
             e == 0 ? 0.0f : 1.0f, du, I, 0, 1);
  }

  // Gradient norms into the report, then the per-network decision (DivergenceGate, from the
  // loss's finite flags when given), then the update of every learned array in the networks it
  // lets through, then the projection.
  void optimizer_sequence(const OptimizerConfig& opt, int64_t step, const double* loss_finite) {
    const int64_t E = E_;
    double* norm_sq = report_.data() + E * kNumLossTerms;
    double* update_nonfinite = status_.data() + E;
    double* gate = status_.data() + 2 * E;
    const bool is_adam = opt.kind == OptimizerConfig::Kind::Adam;
    kernels::UpdateNonFinite check{};
    int count = 0;
    for (int k = 0; k < kNumParamArrays; ++k) {
      if (!learned(k)) continue;
      const int64_t n = array_size(k) / E;
      reduce(E, n, kernels::SumOfSquares{grads_[k], n}, norm_sq, count > 0);
      const float* plasticity = k < 3 && plasticity_[k].size()        ? plasticity_[k].data()
                                : k == kAlpha && tau_plasticity_.size() ? tau_plasticity_.data()
                                                                        : nullptr;
      check.arrays[count] = kernels::OptimizerUpdate{params_[k], grads_[k], opt_m_[k], opt_v_[k], plasticity, n, norm_sq,
                                                     is_adam ? kernels::UpdateKind::Adam : kernels::UpdateKind::SGD,
                                                     coeffs(), step == 1, gate, k != kAlpha};
      check.offset[count + 1] = check.offset[count] + n;
      ++count;
    }
    for (int a = count + 1; a <= kernels::kMaxUpdateArrays; ++a) check.offset[a] = check.offset[count];
    reduce(E, check.offset[count], check, update_nonfinite);
    apply(1, kernels::DivergenceGate{diverged_.data(), loss_finite, norm_sq, update_nonfinite, gate,
                                     norm_sq + E, E});
    for (int a = 0; a < count; ++a) apply(E * check.arrays[a].n, check.arrays[a]);
    for (int l = 0; l < 3; ++l) project(l);
    if (learned(kAlpha)) clamp_alpha();
  }
  // The squared gradient norms and diverged flags of a report (E each) into diverged_host_;
  // returns the norms.
  std::vector<double> norms_and_diverged(const double* norm_sq) {
    std::vector<double> norms(norm_sq, norm_sq + E_);
    for (double& x : norms) x = std::sqrt(x);
    for (int64_t e = 0; e < E_; ++e) diverged_host_[size_t(e)] = norm_sq[E_ + e] != 0.0 ? 1 : 0;
    return norms;
  }
  std::vector<double> read_norms() {
    std::vector<double> report(size_t(2 * E_));
    download(report.data(), report_.data() + E_ * kNumLossTerms, 2 * E_);
    return norms_and_diverged(report.data());
  }

  void project(int l) {
    if (!sparsity_[l].size() && !ei_[l].size()) return;
    apply(E_ * pre_[l] * post_[l], kernels::ProjectWeights{params_[l], sparsity_[l].size() ? sparsity_[l].data() : nullptr,
                                                           ei_[l].size() ? ei_[l].data() : nullptr});
  }

  void clamp_alpha() { apply(E_ * H_, kernels::ClampAlpha{params_[kAlpha], alpha_min_}); }

  bool learned(int k) const { return learned_[k]; }
  // Whether BPTT on `plan` adds alpha's gradient terms in its step rows (kFoldsAlphaGradient<P>)
  bool folds_alpha(const RecurrencePlan& plan) const {
    return kFoldsAlphaGradient<P> && learned(kAlpha) && plan.path == RecurrencePath::Sequence;
  }

  int64_t array_size(int k) const {
    const std::string dims = "[" + std::to_string(I_) + ", " + std::to_string(H_) + ", " + std::to_string(O_) + "]";
    return checked_product(param_shape(k, E_, I_, H_, O_), "dims", dims);
  }

  void require_forward(const char* what) const {
    if (!has_forward_) throw StateError(std::string("ctrnn: ") + what + "() needs a forward() first");
  }

  // ---- Graph keys: everything a section's launches depend on besides the per-call scalars

  template <class V>
  static void append(std::string& k, const V& v) {
    static_assert(std::is_arithmetic_v<V> || std::is_enum_v<V>, "keys hold plain values");
    k.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  std::string key(const char* part, const Shape& sh) const {
    std::string k = part;
    for (int64_t v : {generation_, sh.T, sh.B}) append(k, v);
    append(k, sh.u_per_network);
    return k;
  }
  std::string key(const char* part, const Shape& sh, const ForwardArgs<float>& a) const {
    std::string k = key(part, sh);
    append(k, a.initial), append(k, a.keep_final_state), append(k, a.seed);
    append(k, a.dynamics.activation);  // the sigmas: in the dynamics buffer; alpha: a parameter
    return k;
  }
  std::string key(const char* part, const Shape& sh, const LossArgs<float>& l) const {
    std::string k = key(part, sh);
    append(k, l.target_per_network), append(k, static_cast<bool>(l.mask) ? l.mask_shape : LossMask::None);
    for (int t = 0; t < kNumLossTerms; ++t) append(k, l.weights.used(LossTerm(t)));  // values: in the arena
    return k;
  }
  std::string key(const char* part, const Shape& sh, const ForwardArgs<float>& f, const LossArgs<float>& l,
                  const OptimizerConfig& o, bool first_step) const {
    std::string k = key(part, sh, f) + key("", sh, l);
    append(k, o.kind);
    append(k, first_step);  // the values (each network's) reach the device through the arena
    return k;
  }

  // ---- The primitives, counted

  // The recurrence's plan: which kernels a section launches, with which geometry.
  static std::string plan_key(const RecurrencePlan& p) {
    std::string k;
    const auto& g = p.geometry;
    append(k, p.path), append(k, g.cluster), append(k, g.threads), append(k, g.batch_tile), append(k, g.parts);
    return k;
  }

  template <class F>
  void graph(const std::string& key, F&& sequence) {
    ++counts_.graphs;
    in_graph_ = true;
    try {
      run_graph(prims_, key, sequence);
    } catch (...) {
      in_graph_ = false;
      throw;
    }
    in_graph_ = false;
  }
  template <class Kernel>
  void persistent(const RecurrencePlan& plan, const Kernel& kernel) {
    count(1);
    run_persistent(prims_, plan, E_, kernel);
  }
  void count(int64_t kernels) { (in_graph_ ? counts_.in_graphs : counts_.outside_graphs) += kernels; }
  void gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, int64_t stride_a,
            const float* B, int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
            int64_t batch) {
    count(1);
    prims_.gemm(ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch);
  }
  template <class F>
  void apply(int64_t n, const F& body) {
    count(1);
    prims_.apply(n, body);
  }
  template <class F>
  void reduce(int64_t E, int64_t n, const F& body, double* out, bool accumulate = false) {
    count(2);
    prims_.reduce(E, n, body, out, accumulate);
  }
  void prims_column_sums(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                         float* out, int64_t stride_out) {
    count(1);
    prims_.column_sums(batch, rows, cols, x, stride_x, scale, out, stride_out);
  }
  void copy(float* dst, const float* src, int64_t n) {
    count(1);
    prims_.copy(dst, src, n);
  }
  template <class T>
  void upload(T* dst, const T* host_src, int64_t n) {
    ++counts_.uploads;
    prims_.upload(dst, host_src, n);
  }
  template <class T>
  void download(T* host_dst, const T* src, int64_t n) {
    ++counts_.downloads;
    prims_.download(host_dst, src, n);
  }

  template <class T>
  void resize(Buf<T>& b, int64_t n) {
    if (n > int64_t(b.capacity())) ++generation_;  // buffer addresses change: graphs are recaptured
    b.resize(size_t(n));
    if constexpr (std::is_floating_point_v<T>)
      if (poison_ && n > 0) fill(b.data(), n, std::numeric_limits<T>::quiet_NaN());
  }
  template <class T>
  void fill(T* x, int64_t n, T value) {
    apply(n, kernels::Fill<T>{x, value});
  }

  void upload_set(ParamBuffers& set, const Params<float>& p, const char* what) {
    const auto arrays = p.arrays();
    for (int k = 0; k < kNumParamArrays; ++k) {
      if (int64_t(arrays[k]->size()) != array_size(k))
        throw InvalidArgument(std::string(what) + " " + kParamNames[k], std::to_string(array_size(k)) + " values",
                              std::to_string(arrays[k]->size()));
    }
    for (int k = 0; k < kNumParamArrays; ++k) upload(set[k], arrays[k]->data(), array_size(k));
  }
  void download_set(ParamBuffers& set, Params<float>& p) {
    p = Params<float>::zeros(E_, I_, H_, O_);
    auto arrays = p.arrays();
    for (int k = 0; k < kNumParamArrays; ++k) download(arrays[k]->data(), set[k], array_size(k));
  }
  void upload_optional(Buf<float>& b, const std::vector<float>& host, int64_t n, const char* what) {
    if (!host.empty() && int64_t(host.size()) != n)
      throw InvalidArgument(what, std::to_string(n) + " values (E, pre, post)", std::to_string(host.size()));
    resize(b, int64_t(host.size()));
    if (!host.empty()) upload(b.data(), host.data(), n);
  }

  P prims_;
  std::array<bool, kNumParamArrays> learned_;  // ParamArray order
  bool poison_;
  uint32_t first_network_;  // network e draws noise and growth as network first_network_ + e (Config)
  float alpha_min_;         // a learned alpha stays in [alpha_min_, 1] (Config::alpha_min)
  int64_t E_, I_, H_, O_;
  int64_t pre_[3] = {}, post_[3] = {};
  ParamBuffers params_, grads_, opt_m_, opt_v_;  // opt_m_, opt_v_: Adam moments / SGD momentum
  std::array<Buf<float>, 3> sparsity_, ei_, plasticity_, growth_;  // empty: no such mask
  Buf<float> tau_plasticity_;  // (E, H) scales of alpha's update (Config::tau_plasticity); empty: ones

  // Inputs of the current call: CallScalars | u | target | mask, each at a kAlign boundary
  Buf<unsigned char> arena_;
  std::vector<unsigned char> pack_;  // its host image

  Buf<float> dynamics_;                // set_dynamics
  std::vector<float> dynamics_host_;   // what it holds

  // The last forward
  int64_t T_ = 0, B_ = 0;
  Dynamics dyn_;
  bool u_per_network_ = false, has_forward_ = false;
  RecurrenceOptions recurrence_;
  RecurrencePlan plan_;  // of the last forward
  Buf<float> v_, r_, y_, work_;
  Buf<float> kept_;
  int64_t kept_batch_ = 0;

  // BPTT. tile_sums_, arrivals_: the persistent kernel's sums across batch tiles
  // (PersistentBackward); arrivals_ is 0 between launches, from the constructor on.
  // dv_: dv_0..dv_T after BPTT (with learn_tau, dv_1..T then hold alpha's gradient terms, unless
  // folds_alpha: then alpha_terms_ (E, B, H) holds them summed over t)
  Buf<float> dv_, dr0_, gy_in_, gr_in_, du_, tile_sums_, alpha_terms_;  // du_: dL/du (backward with du)
  Buf<float> w_t_;  // W_out^T (E, O, H) | W_hid^T (E, H, H), with kTransposesForNnProducts<P>
  Buf<uint32_t> arrivals_;

  // The last loss; report_: terms (E, kNumLossTerms) | squared gradient norms (E) | diverged (E);
  // status_: the loss's finite flags (E) | UpdateNonFinite's sums (E) | the update gate (E)
  Buf<float> loss_gy_, loss_gr_, rate_mean_, rate_cv_;
  std::array<Buf<float>, 3> direct_;
  Buf<double> stats_, report_, status_;
  // (E) 1: network e has diverged (DivergenceGate); 0 from the constructor on, and its host copy
  Buf<double> diverged_;
  std::vector<uint8_t> diverged_host_;
  bool has_loss_ = false, loss_has_gr_ = false;
  bool has_direct_[3] = {false, false, false};

  int64_t generation_ = 0;  // counts buffer reallocations (part of every graph key)
  bool in_graph_ = false;
  LaunchCounts counts_;
};

}  // namespace ctrnn::detail
