#pragma once
// The persistent backward kernel: the whole BPTT time loop (dv_T down to dv_0) in one launch,
// with the structure of persistent_forward.hpp: phases between barriers, each CTA holding a
// slice of W_hid^T for the whole sequence and the tile's full dv_{t+1}, double-buffered.
//
//   phase 0       load this CTA's slice of W_hid^T (column jl of the slice is row c0 + jl of
//                 W_hid) and zero buffer 0 (dv_{T+1} = 0)
//   step s = 1 .. T + 1, t = T + 1 - s:
//   phase 2s - 1  partial sums of (dv_{t+1} W_hid^T)[b][j] for this CTA's columns
//   phase 2s      for this CTA's columns j and the tile's rows b:
//                   dr   = alpha (dv_{t+1} W_hid^T)[b][j] + (gy_t W_out^T)[b][j]   (t >= 1)
//                        = alpha (dv_1 W_hid^T)[b][j]                             (t = 0)
//                   dv_t = (dr + gr_t[b][j]) f'(v_t[b][j]) + (1 - alpha) dv_{t+1}[b][j]
//                 writes dv_t to global memory (for the weight-gradient GEMMs and the bias and
//                 h0 sums after the loop) and into buffer s % 2 of every CTA of the cluster
// Exactly the existing sequence's arithmetic in the same order: the recurrent GEMM with beta = 1
// onto the gy W_out^T term (beta = 0 at t = 0), then LeakyStepBackward (leaky_step.hpp).
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/persistent_geometry.hpp"

namespace ctrnn::kernels {

struct PersistentBackward {
  const float* w_hid;  // (E, H, H)
  const float* dr;     // (E, T, B, H): gy_t W_out^T of every step (one GEMM before the loop)
  const float* gr;     // (E, T, B, H) direct dL/dr_t, or null
  const float* v;      // (E, T+1, B, H) from the forward
  float* dv;           // (E, T+1, B, H)
  int64_t T;
  float alpha;
  Activation activation;
  PersistentGeometry geometry;

  CTRNN_HD int64_t phases() const { return 1 + 2 * (T + 1); }
  CTRNN_HD int64_t shared_floats() const { return geometry.floats(); }
  CTRNN_HD Barrier barrier_after(int64_t phase) const { return step_barrier_after(phase); }

  template <class Cta>
  CTRNN_HD void run_phase(int64_t phase, int64_t cluster_index, const Cta& cta, int thread) const {
    const PersistentTile tile = PersistentTile::of(geometry, cluster_index, cta.rank());
    float* smem = cta.shared(cta.rank());
    const int64_t s = (phase + 1) / 2;
    if (phase == 0)
      load(tile, smem, thread);
    else if (phase % 2 == 1)
      partial_products(geometry, tile, smem + geometry.buffer((s - 1) % 2), smem, smem + geometry.partial(), thread);
    else
      finish(s, tile, cta, thread);
  }

 private:
  CTRNN_HD void load(const PersistentTile& tile, float* smem, int thread) const {
    const PersistentGeometry& g = geometry;
    const int64_t H = g.H, S = g.slice;
    const float* w = w_hid + tile.e * H * H;
    for (int64_t i = thread; i < H * S; i += g.threads) {
      const int64_t k = i / S, jl = i - k * S;
      smem[i] = jl < tile.cols ? w[(tile.c0 + jl) * H + k] : 0.0f;
    }
    float* later = smem + g.buffer(0);
    for (int64_t i = thread; i < tile.rows * H; i += g.threads) later[i] = 0.0f;
  }

  template <class Cta>
  CTRNN_HD void finish(int64_t s, const PersistentTile& tile, const Cta& cta, int thread) const {
    const PersistentGeometry& g = geometry;
    const int64_t H = g.H, BH = g.B * H, state = (T + 1) * BH, t = T + 1 - s, next = g.buffer(s % 2);
    const float* smem = cta.shared(cta.rank());
    const float* later = smem + g.buffer((s - 1) % 2);  // dv_{t+1} of the whole tile
    const float* partial = smem + g.partial();
    const float* dr_t = t >= 1 ? dr + tile.e * T * BH + (t - 1) * BH : nullptr;
    const float* gr_t = gr && t >= 1 ? gr + tile.e * T * BH + (t - 1) * BH : nullptr;
    const float* v_t = v + tile.e * state + t * BH;
    float* dv_t = dv + tile.e * state + t * BH;
    for (int64_t item = thread; item < tile.rows * tile.cols; item += g.threads) {
      const int64_t b = item / tile.cols, jl = item - b * tile.cols, j = tile.c0 + jl;
      const int64_t idx = (tile.b0 + b) * H + j;  // (b, j) in the network's (B, H) slab
      const float rec = product(g, partial, b, jl);
      float d = dr_t ? alpha * rec + dr_t[idx] : alpha * rec;
      if (gr_t) d += gr_t[idx];
      const float carried = later[b * H + j];
      const float dvt = d * activate_grad(activation, v_t[idx]) + (1.0f - alpha) * carried;
      dv_t[idx] = dvt;
      for (int p = 0; p < g.cluster; ++p) cta.shared(p)[next + b * H + j] = dvt;
    }
  }
};

}  // namespace ctrnn::kernels
