#pragma once
// Per-element bodies of the parameter updates, shared by the CPU backend's loops and the CUDA
// kernels (CTRNN_HD): PyTorch's Adam and SGD, the sparsity/Dale projection, synapse growth.
#include <cmath>
#include <cstdint>

#include "ctrnn/optimizer.hpp"

#include "kernels/host_device.hpp"

namespace ctrnn::body {

// Step-dependent constants of torch.optim.Adam, computed once per step on the host in double
// and rounded to the parameters' type inside the update.
struct AdamCoeffs {
  double beta1, beta2, eps, weight_decay;
  double step_size;              // lr / (1 - beta1^step)
  double bias_correction2_sqrt;  // sqrt(1 - beta2^step)

  // The constants of optimizer step `step` (1-based) for network e (its lr and weight decay);
  // zeros unless `opt` is Adam. Host only.
  static AdamCoeffs of(const OptimizerConfig& opt, int64_t step, int64_t e = 0) {
    if (opt.kind != OptimizerConfig::Kind::Adam) return {};
    return {opt.beta1, opt.beta2, opt.eps, opt.weight_decay[e], opt.lr[e] / (1 - std::pow(opt.beta1, double(step))),
            std::sqrt(1 - std::pow(opt.beta2, double(step)))};
  }
};

// torch.optim.Adam (single-tensor path, amsgrad off), with the update scaled by `scale` (the
// synapse's plasticity; 1 for biases and h0):
//   g += wd p;  m = lerp(m, g, 1 - b1);  v = b2 v + (1 - b2) g^2
//   p -= scale * step_size * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// 1 - b1 and 1 - b2 are computed in double and then rounded, as PyTorch does (it gets them as
// Python floats): 1 - 0.999f in float is 0.00099998713, 6e-6 relatively larger.
template <class T>
CTRNN_HD inline void adam_update(T& p, T g, T& m, T& v, T scale, const AdamCoeffs& c) {
  g += T(c.weight_decay) * p;
  m += T(1.0 - c.beta1) * (g - m);
  v = T(c.beta2) * v + T(1.0 - c.beta2) * g * g;
  const T denom = std::sqrt(v) / T(c.bias_correction2_sqrt) + T(c.eps);
  p -= scale * T(c.step_size) * m / denom;
}

// torch.optim.SGD (dampening 0, no Nesterov): d = g + wd p; with momentum the buffer starts as d
// at the first step and is momentum * buf + d afterwards; p -= scale * lr * (buf or d).
template <class T>
CTRNN_HD inline void sgd_update(T& p, T g, T& buf, T scale, T lr, T momentum, T weight_decay, bool first_step) {
  T d = g + weight_decay * p;
  if (momentum != T(0)) {
    buf = first_step ? d : momentum * buf + d;
    d = buf;
  }
  p -= scale * lr * d;
}

// Neither NaN nor +-Inf (x - x is NaN for both), the same test on the host and the device.
template <class T>
CTRNN_HD inline bool finite(T x) {
  return x - x == T(0);
}

// W <- W * S (S in {0, 1}), then Dale's law by the E/I sign (+1 or -1). A null mask is absent.
template <class T>
CTRNN_HD inline T project_weight(T w, const T* sparsity, const T* ei, long long i) {
  if (sparsity) w *= sparsity[i];
  if (ei) w = ei[i] > T(0) ? (w > T(0) ? w : T(0)) : (w < T(0) ? w : T(0));
  return w;
}

// A learned alpha after its update: into [lo, 1] (lo = Config::alpha_min() > 0), so that
// 0 < alpha <= 1 holds at every step (docs/contract.md "Learned time constants").
template <class T>
CTRNN_HD inline T clamp_alpha(T alpha, T lo) {
  return alpha < lo ? lo : alpha > T(1) ? T(1) : alpha;
}

// Synapse growth for one absent synapse: appears with probability p given a uniform draw in
// [0, 1). Returns whether it grew.
template <class T>
CTRNN_HD inline bool grows(T sparsity, T probability, float uniform) {
  return sparsity == T(0) && probability > T(0) && uniform < float(probability);
}

}  // namespace ctrnn::body
