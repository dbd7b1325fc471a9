#pragma once
// The CPU reference of the loss (docs/contract.md "Loss", nn4n's RNNLoss), per network, with its
// gradients with respect to y, r (t = 1..T) and the weights:
//   mse    = sum m (y - target)^2 / sum m          (m = 1 without a mask: the plain mean)
//   in     = |W_in|^2 / (I H), hid = |W_hid|^2 / (H H), out = |W_out|^2 / (H O)
//   fr     = mean_h m_h^2,  fr_sd = std_h(m_h^2),   m_h = mean_{t,b} r     (std unbiased)
//   fr_cv  = std(c) / mean(c),                      c_{b,h} = mean_t |r|
// Terms whose lambda is 0 are not computed (0), as nn4n skips them; each network has its own
// lambdas (LossWeights' PerNetwork values).
#include <cmath>
#include <cstdint>
#include <vector>

#include "ctrnn/loss.hpp"
#include "ctrnn/params.hpp"
#include "reference/ctrnn_reference.hpp"

namespace ctrnn::reference {

template <class S>
struct LossResult {
  std::vector<S> terms;  // (E, kNumLossTerms) unweighted term values
  std::vector<S> total;  // (E) sum of lambda * term
  std::vector<S> gy;     // (E, T, B, O) dL/dy
  std::vector<S> gr;     // (E, T, B, H) dL/dr from the firing-rate terms
  Gradients<S> direct;   // dL/dW of the weight terms (biases and h0 zero)
};

template <class S>
S sum_of_squares(const S* x, int64_t n) {
  S s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// target: (T, B, O) or (E, T, B, O); mask: null, (T, B) or (T, B, O) per mask_shape.
template <class S>
LossResult<S> loss(const Params<S>& p, const Trace<S>& tr, const S* target, bool target_per_network,
                   const S* mask, LossMask mask_shape, const LossWeights& w) {
  const int64_t E = p.E, I = p.I, H = p.H, O = p.O, T = tr.T, B = tr.B;
  LossResult<S> res;
  res.terms.assign(E * kNumLossTerms, S(0));
  res.total.assign(E, S(0));
  res.gy.assign(E * T * B * O, S(0));
  res.gr.assign(E * T * B * H, S(0));
  res.direct = Gradients<S>::zeros(E, I, H, O);
  auto mask_at = [&](int64_t t, int64_t b, int64_t o) -> S {
    if (mask_shape == LossMask::TimeBatch) return mask[t * B + b];
    if (mask_shape == LossMask::TimeBatchOutput) return mask[(t * B + b) * O + o];
    return S(1);
  };
  for (int64_t e = 0; e < E; ++e) {
    S* terms = &res.terms[e * kNumLossTerms];
    // MSE
    const S* y = &tr.y[e * T * B * O];
    const S* tgt = target + (target_per_network ? e * T * B * O : 0);
    S num = 0, den = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t o = 0; o < O; ++o) {
          const int64_t i = (t * B + b) * O + o;
          const S m = mask_at(t, b, o), d = y[i] - tgt[i];
          num += m * d * d;
          den += m;
        }
    terms[kMse] = num / den;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t o = 0; o < O; ++o) {
          const int64_t i = (t * B + b) * O + o;
          res.gy[e * T * B * O + i] = S(w[kMse][e]) * S(2) * mask_at(t, b, o) * (y[i] - tgt[i]) / den;
        }
    // Weight terms
    struct WeightTerm {
      LossTerm term;
      const std::vector<S>& weight;
      std::vector<S>& grad;
      int64_t size;
    };
    const WeightTerm weight_terms[3] = {{kLossIn, p.w_in, res.direct.w_in, I * H},
                                        {kLossHid, p.w_hid, res.direct.w_hid, H * H},
                                        {kLossOut, p.w_out, res.direct.w_out, H * O}};
    for (const WeightTerm& wt : weight_terms) {
      if (w[wt.term][e] == 0) continue;
      const S* W = &wt.weight[e * wt.size];
      terms[wt.term] = sum_of_squares(W, wt.size) / S(wt.size);
      for (int64_t i = 0; i < wt.size; ++i) wt.grad[e * wt.size + i] = S(w[wt.term][e]) * S(2) * W[i] / S(wt.size);
    }
    // Firing-rate terms over r_1..r_T
    S* gr = &res.gr[e * T * B * H];
    auto r_at = [&](int64_t t, int64_t b, int64_t h) { return tr.r_at(e, t + 1)[b * H + h]; };
    if (w[kLossFr][e] != 0 || w[kLossFrSd][e] != 0) {
      std::vector<S> m(H, S(0)), s(H);  // m_h = mean_{t,b} r, s_h = m_h^2
      for (int64_t t = 0; t < T; ++t)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h) m[h] += r_at(t, b, h) / S(T * B);
      S s_mean = 0;
      for (int64_t h = 0; h < H; ++h) s[h] = m[h] * m[h], s_mean += s[h] / S(H);
      std::vector<S> ds(H, S(0));  // dL/ds_h
      if (w[kLossFr][e] != 0) {
        terms[kLossFr] = s_mean;
        for (int64_t h = 0; h < H; ++h) ds[h] += S(w[kLossFr][e]) / S(H);
      }
      if (w[kLossFrSd][e] != 0) {
        S var = 0;
        for (int64_t h = 0; h < H; ++h) var += (s[h] - s_mean) * (s[h] - s_mean) / S(H - 1);
        const S sd = std::sqrt(var);
        terms[kLossFrSd] = sd;
        for (int64_t h = 0; h < H; ++h) ds[h] += S(w[kLossFrSd][e]) * (s[h] - s_mean) / (S(H - 1) * sd);
      }
      for (int64_t t = 0; t < T; ++t)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h) gr[(t * B + b) * H + h] += ds[h] * S(2) * m[h] / S(T * B);
    }
    if (w[kLossFrCv][e] != 0) {
      const int64_t N = B * H;
      std::vector<S> c(N, S(0));  // c_{b,h} = mean_t |r|
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < N; ++i) c[i] += std::abs(r_at(t, i / H, i % H)) / S(T);
      S mu = 0, var = 0;
      for (int64_t i = 0; i < N; ++i) mu += c[i] / S(N);
      for (int64_t i = 0; i < N; ++i) var += (c[i] - mu) * (c[i] - mu) / S(N - 1);
      const S sd = std::sqrt(var);
      terms[kLossFrCv] = sd / mu;
      for (int64_t i = 0; i < N; ++i) {
        // d(sd/mu)/dc_i = (c_i - mu) / ((N-1) sd mu) - sd / (mu^2 N); d c_i / d r = sign(r) / T
        const S dc = S(w[kLossFrCv][e]) * ((c[i] - mu) / (S(N - 1) * sd * mu) - sd / (mu * mu * S(N)));
        for (int64_t t = 0; t < T; ++t) {
          const S r = r_at(t, i / H, i % H);
          const S sign = r > S(0) ? S(1) : r < S(0) ? S(-1) : S(0);
          gr[t * N + i] += dc * sign / S(T);
        }
      }
    }
    for (int k = 0; k < kNumLossTerms; ++k) res.total[e] += S(w.lambda[k][e]) * terms[k];
  }
  return res;
}

}  // namespace ctrnn::reference
