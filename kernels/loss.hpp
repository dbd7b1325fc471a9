#pragma once
// The loss of docs/contract.md (nn4n's RNNLoss) as per-element bodies (CTRNN_HD): reductions
// return one element's share of a per-network sum (double), gradient bodies write dL/dy or add
// to dL/dr.
// Same formulas, in the same float order, as host/reference/loss_reference.hpp:
//   mse   = sum m (y - target)^2 / sum m,  dL/dy = lambda 2 m (y - target) / sum m
//   W terms: |W|^2 / n,                    dL/dW = lambda 2 W / n
//   fr    = mean_h s_h, fr_sd = std_h s_h, s_h = m_h^2, m_h = mean_{t,b} r   (std unbiased)
//   fr_cv = std(c) / mean(c),              c_{b,h} = mean_t |r|
// Per-network sums live in `stats`, laid out (kNumStats, E): stats[s * E + e].
// Launchers: CudaPrims::apply<Body> / reduce<Body> (host/cuda/launch.cuh), instantiated for these
// bodies in host/cuda/loss.cu.
#include <cmath>
#include <cstdint>

#include "ctrnn/loss.hpp"
#include "kernels/host_device.hpp"
#include "kernels/network_coeffs.hpp"

namespace ctrnn::kernels {

enum LossStat : int {
  kStatMseNum = 0,  // sum m (y - target)^2
  kStatMseDen,      // sum m
  kStatSsIn,        // |W_in|^2, |W_hid|^2, |W_out|^2
  kStatSsHid,
  kStatSsOut,
  kStatFrSum,  // sum_h m_h^2
  kStatFrVar,  // sum_h (m_h^2 - mean)^2
  kStatCvSum,  // sum_{b,h} c
  kStatCvVar,  // sum_{b,h} (c - mean)^2
  kNumStats
};

// The MSE mask m at flat index k of (T, B, O): 1 without a mask.
CTRNN_HD inline float mask_at(const float* mask, LossMask shape, int64_t k, int64_t O) {
  if (shape == LossMask::TimeBatch) return mask[k / O];
  if (shape == LossMask::TimeBatchOutput) return mask[k];
  return 1.0f;
}

// Reduction over k in (T, B, O) of network e: m (y - target)^2.
struct MseNumerator {
  const float* y;       // (E, T, B, O)
  const float* target;  // (T, B, O) or (E, T, B, O)
  int64_t target_stride;  // 0 or T B O
  const float* mask;
  LossMask mask_shape;
  int64_t n, O;  // n = T B O
  CTRNN_HD double operator()(int64_t e, int64_t k) const {
    const float m = mask_at(mask, mask_shape, k, O), d = y[e * n + k] - target[e * target_stride + k];
    return double(m * d * d);
  }
};

// Reduction over k in (T, B, O): m.
struct MseDenominator {
  const float* mask;
  LossMask mask_shape;
  int64_t O;
  CTRNN_HD double operator()(int64_t, int64_t k) const { return double(mask_at(mask, mask_shape, k, O)); }
};

// dL/dy over i in (E, T, B, O).
struct MseGrad {
  const float* y;
  const float* target;
  int64_t target_stride;
  const float* mask;
  LossMask mask_shape;
  int64_t n, O;
  const double* stats;
  int64_t E;
  const body::NetworkCoeffs* coeffs;  // (E) lambda_mse
  float* gy;
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / n, k = i - e * n;
    const float lambda = float(coeffs[e].lambda[kMse]);
    const float den = float(stats[kStatMseDen * E + e]);
    gy[i] = lambda * 2.0f * mask_at(mask, mask_shape, k, O) * (y[i] - target[e * target_stride + k]) / den;
  }
};

// Reduction over i in (n): x^2 of network e's slab of (E, n).
struct SumOfSquares {
  const float* x;
  int64_t n;
  CTRNN_HD double operator()(int64_t e, int64_t i) const {
    const double v = x[e * n + i];
    return v * v;
  }
};

// dL/dW of weight term `term` over i in (E, n); 0 in a network whose lambda is 0 (its term is not
// computed).
struct WeightTermGrad {
  const float* w;
  float* grad;
  const body::NetworkCoeffs* coeffs;  // (E)
  int term;
  int64_t n;
  CTRNN_HD void operator()(int64_t i) const {
    const float lambda = float(coeffs[i / n].lambda[term]);
    grad[i] = lambda != 0.0f ? lambda * 2.0f * w[i] / float(n) : 0.0f;
  }
};

// Reduction over h: s_h = m_h^2, m (E, H) the mean rate.
struct SquaredMeanRate {
  const float* m;
  int64_t H;
  CTRNN_HD double operator()(int64_t e, int64_t h) const {
    const float mh = m[e * H + h];
    return double(mh * mh);
  }
};

// Reduction over h: (s_h - mean_h s)^2.
struct SquaredMeanRateVariance {
  const float* m;
  const double* stats;
  int64_t E, H;
  CTRNN_HD double operator()(int64_t e, int64_t h) const {
    const float mh = m[e * H + h];
    const double d = double(mh * mh) - stats[kStatFrSum * E + e] / double(H);
    return d * d;
  }
};

// dL/dr += (lambda_fr / H + lambda_sd (s_h - mean s) / ((H - 1) sd)) 2 m_h / (T B) over
// i in (E, T, B, H); a lambda of 0 contributes nothing (its term is not computed).
struct FiringRateGrad {
  const float* m;  // (E, H)
  const double* stats;
  int64_t E, T, B, H;
  const body::NetworkCoeffs* coeffs;  // (E) lambda_fr, lambda_fr_sd
  float* gr;  // (E, T, B, H)
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t per_network = T * B * H, e = i / per_network, h = i % H;
    gr[i] += increment(e, h);
  }
  // What every (t, b) of network e's neuron h gets (the CPU backend's row form computes it once
  // per network and neuron: host_fused_steps.hpp).
  CTRNN_HD float increment(int64_t e, int64_t h) const {
    const float lambda_fr = float(coeffs[e].lambda[kLossFr]), lambda_sd = float(coeffs[e].lambda[kLossFrSd]);
    const float mh = m[e * H + h], s = mh * mh;
    float ds = 0.0f;
    if (lambda_fr != 0.0f) ds += lambda_fr / float(H);
    if (lambda_sd != 0.0f) {
      const float mean = float(stats[kStatFrSum * E + e] / double(H));
      const float sd = float(sqrt(stats[kStatFrVar * E + e] / double(H - 1)));
      ds += lambda_sd * (s - mean) / (float(H - 1) * sd);
    }
    return ds * 2.0f * mh / float(T * B);
  }
};

// c (E, B, H) = mean_t |r_t| over i in (E, B, H); r is (E, T+1, B, H) and t runs over 1..T.
struct MeanAbsRate {
  const float* r;
  float* c;
  int64_t T, B, H;
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t BH = B * H, e = i / BH, j = i - e * BH;
    const float* re = r + e * (T + 1) * BH + j;
    float acc = 0.0f;
    for (int64_t t = 1; t <= T; ++t) acc += fabsf(re[t * BH]) / float(T);
    c[i] = acc;
  }
};

// Reductions over j in (B, H): c and (c - mean c)^2.
struct CvSum {
  const float* c;
  int64_t N;
  CTRNN_HD double operator()(int64_t e, int64_t j) const { return double(c[e * N + j]); }
};
struct CvVariance {
  const float* c;
  const double* stats;
  int64_t E, N;
  CTRNN_HD double operator()(int64_t e, int64_t j) const {
    const double d = double(c[e * N + j]) - stats[kStatCvSum * E + e] / double(N);
    return d * d;
  }
};

// dL/dr += dc_j sign(r) / T over i in (E, T, B, H), with
// dc_j = lambda ((c_j - mu) / ((N - 1) sd mu) - sd / (mu^2 N)), N = B H; nothing in a network
// whose lambda is 0 (its term is not computed).
struct CvGrad {
  const float* r;  // (E, T+1, B, H)
  const float* c;  // (E, B, H)
  const double* stats;
  int64_t E, T, B, H;
  const body::NetworkCoeffs* coeffs;  // (E) lambda_fr_cv
  float* gr;  // (E, T, B, H)
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t N = B * H, e = i / (T * N), rest = i - e * T * N, t = rest / N, j = rest - t * N;
    const float lambda = float(coeffs[e].lambda[kLossFrCv]);
    if (lambda == 0.0f) return;
    const float mu = float(stats[kStatCvSum * E + e] / double(N));
    const float sd = float(sqrt(stats[kStatCvVar * E + e] / double(N - 1)));
    const float cj = c[e * N + j];
    const float dc = lambda * ((cj - mu) / (float(N - 1) * sd * mu) - sd / (mu * mu * float(N)));
    const float rv = r[(e * (T + 1) + t + 1) * N + j];
    const float sign = rv > 0.0f ? 1.0f : rv < 0.0f ? -1.0f : 0.0f;
    gr[i] += dc * sign / float(T);
  }
};

// The unweighted loss terms (E, kNumLossTerms) from the per-network sums, as
// loss_reference.hpp defines them (terms whose lambda is 0 are 0, MSE always), and whether each
// network's weighted total sum_k lambda_k term_k is finite (1.0) or not (0.0). Runs as one
// element (one thread loops over the E networks).
struct LossTerms {
  const double* stats;  // (kNumStats, E)
  int64_t E, H, BH;
  int64_t n_weights[3];  // pre x post of the input, hidden and readout layers
  const body::NetworkCoeffs* coeffs;  // (E) the lambdas
  double* terms;   // (E, kNumLossTerms)
  double* finite;  // (E)

  CTRNN_HD void operator()(int64_t) const {
    const int weight_terms[3] = {kLossIn, kLossHid, kLossOut};
    for (int64_t e = 0; e < E; ++e) {
      auto stat = [&](int k) { return stats[k * E + e]; };
      const double* lambda = coeffs[e].lambda;
      double* t = terms + e * kNumLossTerms;
      for (int k = 0; k < kNumLossTerms; ++k) t[k] = 0.0;
      t[kMse] = stat(kStatMseNum) / stat(kStatMseDen);
      for (int l = 0; l < 3; ++l)
        if (lambda[weight_terms[l]] != 0) t[weight_terms[l]] = stat(kStatSsIn + l) / double(n_weights[l]);
      if (lambda[kLossFr] != 0) t[kLossFr] = stat(kStatFrSum) / double(H);
      if (lambda[kLossFrSd] != 0) t[kLossFrSd] = sqrt(stat(kStatFrVar) / double(H - 1));
      if (lambda[kLossFrCv] != 0) t[kLossFrCv] = sqrt(stat(kStatCvVar) / double(BH - 1)) / (stat(kStatCvSum) / double(BH));
      double total = 0.0;
      for (int k = 0; k < kNumLossTerms; ++k) total += lambda[k] * t[k];
      finite[e] = total - total == 0.0 ? 1.0 : 0.0;  // NaN and +-Inf give NaN
    }
  }
};

}  // namespace ctrnn::kernels
