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

#include "ctrnn/params.hpp"
#include "kernels/network_coeffs.hpp"
#include "kernels/philox.hpp"
#include "kernels/update_bodies.hpp"

namespace ctrnn::kernels {

enum class UpdateKind { Adam, SGD };

// The most arrays one UpdateNonFinite covers: every parameter array.
inline constexpr int kMaxUpdateArrays = kNumParamArrays;

// One parameter array (E, n): g *= clip_e (torch.nn.utils.clip_grad_norm_: max_norm / (norm +
// 1e-6) when below 1), then Adam or SGD with the update scaled by the plasticity (null: 1) and,
// unless `decay` is false (alpha), each network's weight decay.
// Changes nothing in network e when `apply` is given and apply[e] is 0: a network that has
// diverged (DivergenceGate) keeps its last good parameters and moments without the host reading
// the loss first.
struct OptimizerUpdate {
  float* p;
  const float* g;
  float* m;
  float* v;
  const float* plasticity;  // (E, n) or null
  int64_t n;
  const double* norm_sq;  // (E) squared gradient norms
  UpdateKind kind;
  const body::NetworkCoeffs* coeffs;  // (E) this step's constants, in memory (one graph for every step)
  bool first_step;
  const double* apply;  // (E) 1: update network e; null: always
  bool decay = true;    // false: no weight decay (alpha: it would pull alpha to 0, tau to infinity)

  // Element i's new parameter and moments, from their current values in p, m, v.
  CTRNN_HD void updated(int64_t i, float& p_i, float& m_i, float& v_i) const {
    const body::NetworkCoeffs& c = coeffs[i / n];
    float clip = 1.0f;
    if (c.clip > 0) {
      const double k = c.clip / (sqrt(norm_sq[i / n]) + 1e-6);
      clip = float(k < 1.0 ? k : 1.0);
    }
    const float scale = plasticity ? plasticity[i] : 1.0f;
    const float grad = g[i] * clip;
    if (kind == UpdateKind::Adam) {
      body::AdamCoeffs adam = c.adam;
      if (!decay) adam.weight_decay = 0;
      body::adam_update(p_i, grad, m_i, v_i, scale, adam);
    } else {
      body::sgd_update(p_i, grad, m_i, scale, float(c.lr), float(c.momentum), decay ? float(c.weight_decay) : 0.0f,
                       first_step);
    }
  }

  CTRNN_HD void operator()(int64_t i) const {
    if (apply && apply[i / n] == 0.0) return;
    updated(i, p[i], m[i], v[i]);
  }
};

// Reduction over the elements of network e's learned arrays, concatenated (array a covers
// [offset[a], offset[a + 1]) of each network): 1 where the update would make a parameter or a
// moment NaN or Inf, computed as OptimizerUpdate computes it, without writing.
struct UpdateNonFinite {
  OptimizerUpdate arrays[kMaxUpdateArrays];
  int64_t offset[kMaxUpdateArrays + 1];

  CTRNN_HD double operator()(int64_t e, int64_t k) const {
    int a = 0;
    while (k >= offset[a + 1]) ++a;
    const OptimizerUpdate& u = arrays[a];
    const int64_t i = e * u.n + (k - offset[a]);
    float p = u.p[i], m = u.m[i], v = u.v[i];
    u.updated(i, p, m, v);
    return body::finite(p) && body::finite(m) && body::finite(v) ? 0.0 : 1.0;
  }
};

// The per-network decision of a training step, as one element (one writer per flag): network e
// is updated (gate[e] = 1) when it has not diverged, its weighted loss (when given) and gradient
// norm are finite and its update keeps every parameter and moment finite; otherwise it is, from
// now on, diverged. `report` receives the flags after the step.
struct DivergenceGate {
  double* diverged;                // (E) 1: frozen; kept across steps
  const double* loss_finite;       // (E) LossTerms's flags, or null (no loss: an optimizer step alone)
  const double* norm_sq;           // (E)
  const double* update_nonfinite;  // (E) UpdateNonFinite's sums
  double* gate;                    // (E)
  double* report;                  // (E)
  int64_t E;

  CTRNN_HD void operator()(int64_t) const {
    for (int64_t e = 0; e < E; ++e) {
      const bool ok = diverged[e] == 0.0 && (!loss_finite || loss_finite[e] != 0.0) && body::finite(norm_sq[e]) &&
                      update_nonfinite[e] == 0.0;
      gate[e] = ok ? 1.0 : 0.0;
      diverged[e] = report[e] = ok ? 0.0 : 1.0;
    }
  }
};

// W <- W * S, then Dale's law (null masks are absent).
struct ProjectWeights {
  float* w;
  const float* sparsity;
  const float* ei;
  CTRNN_HD void operator()(int64_t i) const { w[i] = body::project_weight(w[i], sparsity, ei, (long long)i); }
};

// A learned alpha into [lo, 1] after its update (Config::alpha_min()).
struct ClampAlpha {
  float* alpha;
  float lo;
  CTRNN_HD void operator()(int64_t i) const { alpha[i] = body::clamp_alpha(alpha[i], lo); }
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
  uint32_t first_network = 0;  // network e draws as network first_network + e (Config)

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / n;
    const float u =
        RandomStream(seed, RandomPurpose::Growth, uint32_t(e) + first_network, layer, step).uniform(uint32_t(i - e * n));
    if (!body::grows(sparsity[i], growth[i], u)) return;
    sparsity[i] = 1.0f;
    w[i] = 0.0f;
    m[i] = 0.0f;
    v[i] = 0.0f;
  }
};

}  // namespace ctrnn::kernels
