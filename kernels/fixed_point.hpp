#pragma once
// The per-element bodies of the fixed-point search (host/analysis/prims_search.hpp), between its
// two GEMMs per iteration, for all E networks x N candidates x H neurons at once. Every array is
// (E, N, H) row-major unless named otherwise; i indexes it. The equations are
// host/reference/fixed_point_reference.hpp's:
//   err  = F(v) - v = alpha * (f(v) W_hid + c - v)
//   grad = d(mean q)/dv = (f'(v) * ((alpha * err) W_hid^T) - alpha * err) / N
// with alpha (E, H) each network's alpha of each neuron (elementwise: `*`).
// Launchers: CudaPrims::apply/reduce (instantiated in host/cuda/fixed_point.cu); HostPrims and
// BlasHostPrims run them in loops.
#include <cmath>
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/host_device.hpp"

namespace ctrnn::kernels {

// r = f(v), d = f'(v)
struct FpActivate {
  const float* v;
  float* r;
  float* d;
  Activation activation;
  CTRNN_HD void operator()(int64_t i) const {
    r[i] = activate(activation, v[i]);
    d[i] = activate_grad(activation, v[i]);
  }
};

// err = alpha * (recurrent + c - v), recurrent = f(v) W_hid (the GEMM's output); alpha_err =
// alpha * err
struct FpResidual {
  const float* recurrent;
  const float* c;
  const float* v;
  float* err;
  float* alpha_err;
  const float* alpha;  // (E, H)
  int64_t N, H;
  CTRNN_HD void operator()(int64_t i) const {
    const float al = alpha[(i / (N * H)) * H + i % H];
    const float e = al * (recurrent[i] + c[i] - v[i]);
    err[i] = e;
    alpha_err[i] = al * e;
  }
};

// grad = scale (d * back - alpha_err), back = alpha_err W_hid^T (the second GEMM's output);
// scale 1/N makes it the gradient of the mean q.
struct FpGradient {
  const float* back;
  const float* d;
  const float* alpha_err;
  float* grad;
  float scale;
  CTRNN_HD void operator()(int64_t i) const { grad[i] = scale * (d[i] * back[i] - alpha_err[i]); }
};

// reduce body: sum over i < n of weight * x[g n + i]^2 for group g (q per candidate with weight
// 1/2 and n = H; the squared gradient norm per network with weight 1 and n = N H).
struct FpSquares {
  const float* x;
  int64_t n;
  double weight;
  CTRNN_HD double operator()(int64_t g, int64_t i) const {
    const double value = x[g * n + i];
    return weight * value * value;
  }
};

// One Adam step (PyTorch's formula) on the states of the networks still searching:
//   g = clip[e] grad; m = b1 m + (1 - b1) g; s = b2 s + (1 - b2) g^2;
//   v -= lr[e] (m / bc1) / (sqrt(s / bc2) + eps)
// lr[e] == 0 leaves network e's states and moments alone (its search is over).
struct FpAdam {
  float* v;
  float* m;
  float* s;
  const float* grad;
  const float* lr;    // (E)
  const float* clip;  // (E) gradient scale from clipping
  int64_t per_network;  // N H
  float beta1, beta2, eps, bias_correction1, bias_correction2;
  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / per_network;
    const float rate = lr[e];
    if (rate == 0.0f) return;
    const float g = clip[e] * grad[i];
    const float m1 = beta1 * m[i] + (1.0f - beta1) * g;
    const float s1 = beta2 * s[i] + (1.0f - beta2) * g * g;
    m[i] = m1;
    s[i] = s1;
    v[i] -= rate * (m1 / bias_correction1) / (sqrtf(s1 / bias_correction2) + eps);
  }
};

}  // namespace ctrnn::kernels
