#pragma once
// The search engine in plain loops over the reference map (host/reference/
// fixed_point_reference.hpp), in the network's precision S: the search of double networks, and of
// float networks in builds without OpenBLAS (as the CPU backend of such builds is the reference).
// The same Adam step as kernels::FpAdam, in S.
#include <cmath>
#include <cstdint>
#include <vector>

#include "analysis/search.hpp"
#include "ctrnn/params.hpp"
#include "reference/fixed_point_reference.hpp"

namespace ctrnn::detail {

template <class S>
class ReferenceEngine {
 public:
  int64_t E, N, H;

  // alpha: (E, H); drive and x0: (E, N, H)
  ReferenceEngine(const Params<S>& p, std::vector<S> alpha, Activation act, std::vector<S> drive, std::vector<S> x0,
                  int64_t N_)
      : E(p.E), N(N_), H(p.H), p_(p), alpha_(std::move(alpha)), act_(act), c_(std::move(drive)), v_(std::move(x0)) {
    grad_.assign(v_.size(), S(0));
    m_.assign(v_.size(), S(0));
    s_.assign(v_.size(), S(0));
  }

  void evaluate(double* q, double* grad_sq) {
    for (int64_t e = 0; e < E; ++e) {
      double sq = 0;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t at = (e * N + n) * H;
        q[e * N + n] = double(reference::q_and_gradient(p_, e, &alpha_[size_t(e * H)], act_, &v_[at], &c_[at], &grad_[at]));
        for (int64_t h = 0; h < H; ++h) {
          grad_[at + h] /= S(N);  // of the mean q
          sq += double(grad_[at + h]) * double(grad_[at + h]);
        }
      }
      grad_sq[e] = sq;
    }
  }

  void step(const AdamStep& a) {
    for (int64_t e = 0; e < E; ++e) {
      const S rate = S(a.lr[e]);
      if (rate == S(0)) continue;
      for (int64_t i = e * N * H; i < (e + 1) * N * H; ++i) {
        const S g = S(a.clip[e]) * grad_[i];
        m_[i] = S(a.beta1) * m_[i] + (S(1) - S(a.beta1)) * g;
        s_[i] = S(a.beta2) * s_[i] + (S(1) - S(a.beta2)) * g * g;
        v_[i] -= rate * (m_[i] / S(a.bias_correction1)) / (std::sqrt(s_[i] / S(a.bias_correction2)) + S(a.eps));
      }
    }
  }

  void read_states(std::vector<double>& x) { x.assign(v_.begin(), v_.end()); }
  void read_gradient(std::vector<double>& g) {
    g.resize(grad_.size());
    for (size_t i = 0; i < grad_.size(); ++i) g[i] = double(grad_[i]) * double(N);
  }

 private:
  const Params<S>& p_;
  std::vector<S> alpha_;
  Activation act_;
  std::vector<S> c_, v_, grad_, m_, s_;
};

}  // namespace ctrnn::detail
