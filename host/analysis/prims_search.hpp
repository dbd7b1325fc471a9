#pragma once
// The search engine over the orchestrated primitives (host/orchestrated/primitives.hpp), float:
// per iteration two batched GEMMs over all E networks' N candidates (f(v) W_hid forward, err
// W_hid^T back) and the fused bodies of kernels/fixed_point.hpp. With BlasHostPrims it is the CPU
// backend's search, with CudaPrims the GPU's, with HostPrims the GPU's sequence run on the host
// (tests). Only q (E N doubles) and the gradient norms (E) cross to the host per iteration.
#include <cstdint>
#include <vector>

#include "analysis/search.hpp"
#include "ctrnn/config.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/fixed_point.hpp"
#include "orchestrated/primitives.hpp"

namespace ctrnn::detail {

// The problem as the engines take it: host arrays, float.
struct SearchProblem {
  int64_t E = 0, N = 0, H = 0;
  const float* alpha = nullptr;  // (E, H) each network's alpha of each neuron
  Activation activation = Activation::Tanh;
  const float* w_hid = nullptr;  // (E, H, H)
  const float* drive = nullptr;  // (E, N, H) the constant drive c = u* W_in + b_in + b_hid
  const float* x0 = nullptr;     // (E, N, H) candidates
};

template <class P>
class PrimsEngine {
 public:
  int64_t E, N, H;

  PrimsEngine(P& p, const SearchProblem& s) : E(s.E), N(s.N), H(s.H), p_(p), act_(s.activation) {
    const int64_t n = E * N * H;
    for (auto* b : {&v_, &c_, &r_, &d_, &a_, &err_, &alpha_err_, &back_, &grad_, &m_, &s_}) b->resize(n);
    w_.resize(E * H * H);
    alpha_.resize(E * H);
    p_.upload(w_.data(), s.w_hid, E * H * H);
    p_.upload(alpha_.data(), s.alpha, E * H);
    p_.upload(c_.data(), s.drive, n);
    p_.upload(v_.data(), s.x0, n);
    p_.apply(n, kernels::Fill<float>{m_.data(), 0.0f});
    p_.apply(n, kernels::Fill<float>{s_.data(), 0.0f});
    q_.resize(E * N);
    grad_sq_.resize(E);
    lr_.resize(E);
    clip_.resize(E);
  }

  void evaluate(double* q, double* grad_sq) {
    const int64_t n = E * N * H, slab = N * H;
    p_.apply(n, kernels::FpActivate{v_.data(), r_.data(), d_.data(), act_});
    p_.gemm(Op::N, Op::N, N, H, H, 1.0f, r_.data(), H, slab, w_.data(), H, H * H, 0.0f, a_.data(), H, slab, E);
    p_.apply(n, kernels::FpResidual{a_.data(), c_.data(), v_.data(), err_.data(), alpha_err_.data(), alpha_.data(), N, H});
    p_.reduce(E * N, H, kernels::FpSquares{err_.data(), H, 0.5}, q_.data(), false);
    p_.gemm(Op::N, Op::T, N, H, H, 1.0f, alpha_err_.data(), H, slab, w_.data(), H, H * H, 0.0f, back_.data(), H, slab,
            E);
    p_.apply(n, kernels::FpGradient{back_.data(), d_.data(), alpha_err_.data(), grad_.data(), 1.0f / float(N)});
    p_.reduce(E, slab, kernels::FpSquares{grad_.data(), slab, 1.0}, grad_sq_.data(), false);
    p_.download(q, q_.data(), E * N);
    p_.download(grad_sq, grad_sq_.data(), E);
  }

  void step(const AdamStep& a) {
    const std::vector<float> lr(a.lr.begin(), a.lr.end()), clip(a.clip.begin(), a.clip.end());
    p_.upload(lr_.data(), lr.data(), E);
    p_.upload(clip_.data(), clip.data(), E);
    p_.apply(E * N * H, kernels::FpAdam{v_.data(), m_.data(), s_.data(), grad_.data(), lr_.data(), clip_.data(), N * H,
                                        float(a.beta1), float(a.beta2), float(a.eps), float(a.bias_correction1),
                                        float(a.bias_correction2)});
  }

  void read_states(std::vector<double>& x) {
    std::vector<float> host(size_t(E * N * H));
    p_.download(host.data(), v_.data(), E * N * H);
    x.assign(host.begin(), host.end());
  }

  // dq/dv of each candidate (E, N, H) at the last evaluate() (the tests' finite-difference check).
  void read_gradient(std::vector<double>& g) {
    std::vector<float> host(size_t(E * N * H));
    p_.download(host.data(), grad_.data(), E * N * H);
    g.resize(host.size());
    for (size_t i = 0; i < host.size(); ++i) g[i] = double(host[i]) * double(N);
  }

 private:
  template <class T>
  using Buffer = typename P::template Buffer<T>;
  P& p_;
  Activation act_;
  Buffer<float> w_, alpha_, v_, c_, r_, d_, a_, err_, alpha_err_, back_, grad_, m_, s_, lr_, clip_;
  Buffer<double> q_, grad_sq_;
};

// The search of `s` on primitives p; `x` receives the final states (E, N, H).
template <class P>
SearchOutcome search_with(P& p, const SearchProblem& s, const FixedPointOptions& o, std::vector<double>& x) {
  PrimsEngine<P> engine(p, s);
  SearchOutcome out = run_search(engine, o);
  engine.read_states(x);
  return out;
}

}  // namespace ctrnn::detail
