#pragma once
// dL/dalpha of learned time constants (docs/contract.md "Learned time constants"), after BPTT has
// left dv_0..dv_T and v_0..v_T in the trace buffers (both recurrence paths do):
//   dL/dalpha_j = sum_{t >= 1, b} dv_t[b][j] (v_t - v_{t-1})[b][j] / alpha_j
// (host/reference/ctrnn_reference.hpp derives it). Three passes, the middle one the primitives'
// column sums: AlphaGradientTerms turns dv_{1..T} into the products in place (nothing reads dv
// after BPTT), the column sums add them over (t, b), DivideByAlpha finishes. (The CPU backend,
// BlasHostPrims, adds the same products in its backward step's rows instead, while dv_t and v_t
// are in cache, and keeps only DivideByAlpha: host/orchestrated/primitives.hpp,
// kFoldsAlphaGradient.)
// Launchers: CudaPrims::apply (host/cuda/launch.cuh), instantiated in host/cuda/leaky_step.cu.
#include <cstdint>

#include "kernels/host_device.hpp"

namespace ctrnn::kernels {

// dv_t <- dv_t (v_t - v_{t-1}), element by element over the (E, T+1, B, H) trace from slab t = 1
// of network 0 to the end: dv and v point at that slab, i runs over E (T+1) B H - B H elements,
// and v[i - BH] is the same neuron's previous step. No index arithmetic: a plain loop on the host,
// coalesced on the GPU. The slabs t = 0 of networks 1..E-1 get products of unrelated values, which
// nothing reads (the column sums read t = 1..T; dh0's sums of dv_0 are done before).
struct AlphaGradientTerms {
  float* dv;
  const float* v;
  int64_t BH;

  CTRNN_HD void operator()(int64_t i) const { dv[i] *= v[i] - v[i - BH]; }
};

// g_i <- g_i / alpha_i over (E, H).
struct DivideByAlpha {
  float* g;
  const float* alpha;
  CTRNN_HD void operator()(int64_t i) const { g[i] /= alpha[i]; }
};

}  // namespace ctrnn::kernels
