#pragma once
// Parameter updates as per-element bodies (CTRNN_HD) around the shared update arithmetic of
// update_bodies.hpp (the CPU backend runs the same body functions): PyTorch Adam/SGD with
// clip_grad_norm_ scaling and plasticity-scaled updates, the sparsity/Dale projection, synapse
// growth with the CPU backend's uniform draws. The per-network gradient norm is loss.hpp's
// SumOfSquares.
// Launchers: CudaPrims::apply<Body> / reduce<Body> (host/cuda/launch.cuh), instantiated for these
// bodies in host/cuda/update.cu.
#include <cmath>
#include <cstdint>

#include "kernels/philox.hpp"
#include "kernels/update_bodies.hpp"

namespace ctrnn::kernels {

enum class UpdateKind { Adam, SGD };

// One parameter array (E, n): g *= clip_e (torch.nn.utils.clip_grad_norm_: max_norm / (norm +
// 1e-6) when below 1), then Adam or SGD with the update scaled by the plasticity (null: 1).
// Changes nothing when `apply` is given and 0: a training step whose loss is not finite keeps
// the last good parameters and moments without the host reading the loss first.
struct OptimizerUpdate {
  float* p;
  const float* g;
  float* m;
  float* v;
  const float* plasticity;  // (E, n) or null
  int64_t n;
  const double* norm_sq;  // (E) squared gradient norms
  double clip_max;        // 0: no clipping
  UpdateKind kind;
  const body::AdamCoeffs* adam;  // this step's constants, in memory (one graph for every step)
  float lr, momentum, weight_decay;
  bool first_step;
  const double* apply;  // null: always

  CTRNN_HD void operator()(int64_t i) const {
    if (apply && *apply == 0.0) return;
    const int64_t e = i / n;
    float clip = 1.0f;
    if (clip_max > 0) {
      const double c = clip_max / (sqrt(norm_sq[e]) + 1e-6);
      clip = float(c < 1.0 ? c : 1.0);
    }
    const float scale = plasticity ? plasticity[i] : 1.0f;
    const float grad = g[i] * clip;
    if (kind == UpdateKind::Adam)
      body::adam_update(p[i], grad, m[i], v[i], scale, *adam);
    else
      body::sgd_update(p[i], grad, m[i], scale, lr, momentum, weight_decay, first_step);
  }
};

// W <- W * S, then Dale's law (null masks are absent).
struct ProjectWeights {
  float* w;
  const float* sparsity;
  const float* ei;
  CTRNN_HD void operator()(int64_t i) const { w[i] = body::project_weight(w[i], sparsity, ei, (long long)i); }
};

// Growth of one layer over i in (E, n): where the sparsity mask is 0, the synapse appears with
// probability p with the draw RandomStream(seed, Growth, e, layer, step).uniform(i mod n), the
// CPU backend's address: mask 1, weight 0, optimizer state 0.
struct GrowSynapses {
  float* sparsity;
  const float* growth;
  float* w;
  float* m;
  float* v;
  int64_t n;
  uint64_t seed;
  uint32_t layer, step;

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / n;
    const float u = RandomStream(seed, RandomPurpose::Growth, uint32_t(e), layer, step).uniform(uint32_t(i - e * n));
    if (!body::grows(sparsity[i], growth[i], u)) return;
    sparsity[i] = 1.0f;
    w[i] = 0.0f;
    m[i] = 0.0f;
    v[i] = 0.0f;
  }
};

}  // namespace ctrnn::kernels
