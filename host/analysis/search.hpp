#pragma once
// The fixed-point search loop, written once over an engine that evaluates q and its gradient for
// all E x N candidates and takes Adam steps (prims_search.hpp: over the orchestrated primitives,
// float; reference_search.hpp: plain loops). The loop itself runs on the host: per network,
// FixedPointFinder's adaptive learning rate and adaptive gradient-norm clipping, and the stopping
// rule (every candidate has q < tol_q or |dq| < tol_dq * lr, or max_iters).
//
// An engine provides
//   int64_t E, N, H;
//   void evaluate(double* q, double* grad_sq);   q (E N) at the current states, and per network
//                                                the squared norm of d(mean q)/dv (E); keeps the
//                                                gradient for step()
//   void step(const AdamStep& a);               one Adam step of the networks with a.lr[e] > 0
//   void read_states(std::vector<double>& x);   (E, N, H)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <vector>

#include "ctrnn/analysis.hpp"

namespace ctrnn::detail {

struct AdamStep {
  std::vector<double> lr;    // (E) 0: the network's search is over
  std::vector<double> clip;  // (E) factor applied to the gradient
  double beta1 = 0.9, beta2 = 0.999, eps = 0.01;
  double bias_correction1 = 1, bias_correction2 = 1;
};

// FixedPointFinder's AdaptiveLearningRate (without warm-up): after each iteration's loss, the
// rate decreases when the loss is worse than each of the previous `window` losses, else
// increases when the losses fell monotonically over the window; no change within `window`
// iterations of the last one.
class AdaptiveRate {
 public:
  explicit AdaptiveRate(const FixedPointOptions& o) : o_(o), rate_(o.lr) {}
  double rate() const { return rate_; }
  void update(double loss) {
    log_.push_back(loss);
    if (int64_t(log_.size()) > o_.lr_window + 1) log_.pop_front();
    const int64_t n = o_.lr_window;
    if (step_ == 0) {
      last_change_ = 0;  // the first iteration sets the initial rate (FixedPointFinder's warm-up end)
    } else if (step_ >= last_change_ + n && int64_t(log_.size()) == n + 1) {
      bool worse_than_all = true, monotone = true;
      for (int64_t k = 0; k < n; ++k) {
        worse_than_all = worse_than_all && log_[n] > log_[k];
        monotone = monotone && log_[k + 1] < log_[k];
      }
      if (worse_than_all) {
        rate_ *= o_.lr_decrease_factor;
        last_change_ = step_;
      } else if (monotone) {
        rate_ *= o_.lr_increase_factor;
        last_change_ = step_;
      }
    }
    ++step_;
  }

 private:
  const FixedPointOptions& o_;
  double rate_;
  int64_t step_ = 0, last_change_ = -1;
  std::deque<double> log_;
};

// FixedPointFinder's AdaptiveGradNormClip: the clip value is the given percentile (numpy's
// linear interpolation) of the last `window` gradient norms, at most max_clip.
class AdaptiveClip {
 public:
  explicit AdaptiveClip(const FixedPointOptions& o) : o_(o), clip_(o.initial_clip) {}
  double clip() const { return clip_; }
  void update(double norm) {
    if (int64_t(norms_.size()) < o_.clip_window) norms_.push_back(norm);
    else norms_[size_t(step_ % o_.clip_window)] = norm;
    ++step_;
    std::vector<double> sorted = norms_;
    std::sort(sorted.begin(), sorted.end());
    const double pos = o_.clip_percentile / 100.0 * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, sorted.size() - 1);
    const double p = sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
    clip_ = std::min(p, o_.max_clip);
  }

 private:
  const FixedPointOptions& o_;
  double clip_;
  int64_t step_ = 0;
  std::vector<double> norms_;
};

// What the search leaves besides the states: per candidate the last q and |dq| (NaN before a
// second evaluation), per network the Adam steps taken.
struct SearchOutcome {
  std::vector<double> q, dq;          // (E N)
  std::vector<int64_t> iterations;    // (E)
};

template <class Engine>
SearchOutcome run_search(Engine& engine, const FixedPointOptions& o) {
  const int64_t E = engine.E, N = engine.N;
  SearchOutcome out;
  out.q.assign(size_t(E * N), 0.0);
  out.dq.assign(size_t(E * N), std::nan(""));
  out.iterations.assign(size_t(E), 0);
  std::vector<double> q_prev(size_t(E * N), std::nan("")), grad_sq(size_t(E), 0.0);
  std::vector<AdaptiveRate> rates(static_cast<size_t>(E), AdaptiveRate{o});
  std::vector<AdaptiveClip> clips(static_cast<size_t>(E), AdaptiveClip{o});
  std::vector<char> active(size_t(E), 1);
  AdamStep step;
  step.lr.assign(size_t(E), 0.0);
  step.clip.assign(size_t(E), 1.0);
  step.beta1 = o.adam_beta1, step.beta2 = o.adam_beta2, step.eps = o.adam_epsilon;
  for (int64_t it = 0;; ++it) {
    engine.evaluate(out.q.data(), grad_sq.data());
    bool any = false;
    for (int64_t e = 0; e < E; ++e) {
      if (!active[size_t(e)]) continue;
      const double lr = rates[size_t(e)].rate();
      bool done = true;
      double mean_q = 0;
      for (int64_t n = 0; n < N; ++n) {
        const size_t k = size_t(e * N + n);
        out.dq[k] = std::fabs(out.q[k] - q_prev[k]);  // NaN at the first evaluation
        done = done && (out.q[k] < o.tol_q || out.dq[k] < o.tol_dq * lr);
        mean_q += out.q[k] / double(N);
      }
      if (done || it >= o.max_iters || !std::isfinite(mean_q)) {
        active[size_t(e)] = 0;
        step.lr[size_t(e)] = 0.0;
        continue;
      }
      const double norm = std::sqrt(grad_sq[size_t(e)]), clip = clips[size_t(e)].clip();
      step.lr[size_t(e)] = lr;
      step.clip[size_t(e)] = norm > clip ? clip / norm : 1.0;
      rates[size_t(e)].update(mean_q);
      clips[size_t(e)].update(norm);
      out.iterations[size_t(e)] = it + 1;
      any = true;
    }
    if (!any) break;
    for (int64_t k = 0; k < E * N; ++k) q_prev[size_t(k)] = out.q[size_t(k)];
    step.bias_correction1 = 1.0 - std::pow(o.adam_beta1, double(it + 1));
    step.bias_correction2 = 1.0 - std::pow(o.adam_beta2, double(it + 1));
    engine.step(step);
  }
  return out;
}

}  // namespace ctrnn::detail
