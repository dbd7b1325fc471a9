#pragma once
// dL/dalpha of learned time constants (docs/contract.md "Learned time constants"), after BPTT has
// left dv_0..dv_T and v_0..v_T in the trace buffers (both recurrence paths do):
//   dL/dalpha_j = sum_{t >= 1, b} dv_t[b][j] (v_t - v_{t-1})[b][j] / alpha_j
// (host/reference/ctrnn_reference.hpp derives it). Three passes, the middle one the primitives'
// column sums: AlphaGradientTerms turns dv_{1..T} into the products in place (nothing reads dv
// after BPTT), the column sums add them over (t, b), DivideByAlpha finishes.
// Launchers: CudaPrims::apply (host/cuda/launch.cuh), instantiated in host/cuda/leaky_step.cu.
#include <cstdint>

#include "kernels/host_device.hpp"

namespace ctrnn::kernels {

// Over i in (E, T, B, H): dv_t <- dv_t (v_t - v_{t-1}) for t = 1..T, in the (E, T+1, B, H) layout
// of v and dv (a network's slabs `state` = (T+1) B H apart).
struct AlphaGradientTerms {
  float* dv;
  const float* v;
  int64_t TBH, BH, state;

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / TBH;
    const int64_t at = e * state + BH + (i - e * TBH);
    dv[at] *= v[at] - v[at - BH];
  }
};

// g_i <- g_i / alpha_i over (E, H).
struct DivideByAlpha {
  float* g;
  const float* alpha;
  CTRNN_HD void operator()(int64_t i) const { g[i] /= alpha[i]; }
};

}  // namespace ctrnn::kernels
