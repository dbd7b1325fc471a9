#pragma once
// The persistent backward kernel: the whole BPTT time loop (dv_T down to dv_0) in one launch,
// with the structure of persistent_forward.hpp: phases between barriers (persistent_loop.hpp),
// each CTA holding a slice of W_hid^T for the whole sequence and the tile's full dv_{t+1},
// double-buffered; then the bias and h0 gradients summed in the kernel.
//
//   phase 0       load this CTA's slice of W_hid^T (column jl of the slice is row c0 + jl of
//                 W_hid) and zero buffer 0 (dv_{T+1} = 0)
//   step s = 1 .. T + 1, t = T + 1 - s:
//   phase 2s - 1  partial sums of (dv_{t+1} W_hid^T)[b][j] for this CTA's columns
//   phase 2s      for this CTA's columns j and the tile's rows b (alpha of neuron j):
//                   dr   = ((alpha * dv_{t+1}) W_hid^T)[b][j] + (gy_t W_out^T)[b][j]   (t >= 1)
//                        = ((alpha * dv_1) W_hid^T)[b][j]                             (t = 0)
//                   dv_t = (dr + gr_t[b][j]) f'(v_t[b][j]) + (1 - alpha_j) dv_{t+1}[b][j]
//                 writes dv_t to global memory, and for t >= 1 alpha_j dv_t over dr_t (for the
//                 weight-gradient GEMMs after the loop), alpha_j dv_t (dv_0 itself at t = 0, for
//                 dh0) into buffer s % 2 of every CTA of the cluster; for t >= 1 adds alpha_j dv_t
//                 to the running sum over time of its (b, j) (the carry area). Each (b, j) is the
//                 same thread's in every step, so it reads its own dv_{t+1} back from global
//                 memory
//   closing phases (only where a bias or h0 gradient is learned), per column j of the slice:
//     0  the tile's sums: sum_b (sum_t alpha_j dv_t)[b][j] and sum_b dv_0[b][j] (dv_0 is the last
//        buffer). With one tile per network these are the gradients; with more, each tile
//        stores them in tile_sums and makes them visible device-wide
//     1  (more tiles) thread 0 counts the tile's arrival for (network, rank); the last tile of
//        the network to arrive is the one that adds up all tiles' sums (flag in shared memory)
//     2  (more tiles, the last tile only) adds the tiles' sums in tile order, so the result does
//        not depend on which tile came last, writes the gradients and resets the count to 0 for
//        the next launch (a captured graph replays the kernel with the same counters)
// Exactly the existing sequence's arithmetic in the same order: the recurrent GEMM with beta = 1
// onto the gy W_out^T term (beta = 0 at t = 0), then LeakyStepBackward (leaky_step.hpp). The bias
// and h0 sums add the same terms as the sequence's column sums (docs/contract.md: db_hid = db_in
// = sum_{t,b} alpha * dv_t, dh0 = sum_b dv_0), in another order (over t first, then over b).
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/persistent_loop.hpp"

namespace ctrnn::kernels {

// Device-wide ordering for the tiles' sums; on the host (the emulator runs one thread's phase at
// a time, whatever the interleaving of the clusters) plain operations.
CTRNN_HD inline void fence_device() {
#if defined(__CUDA_ARCH__)
  __threadfence();
#endif
}
CTRNN_HD inline uint32_t count_arrival(uint32_t* counter) {
#if defined(__CUDA_ARCH__)
  return atomicAdd(counter, 1u);
#else
  return (*counter)++;
#endif
}
// A load that skips the SM's L1 (which is not coherent with other SMs' stores): other CTAs' sums.
CTRNN_HD inline float load_device_coherent(const float* p) {
#if defined(__CUDA_ARCH__)
  return __ldcg(p);
#else
  return *p;
#endif
}

struct PersistentBackward : PersistentLoop<PersistentBackward> {
  const float* w_hid;  // (E, H, H)
  float* dr;           // (E, T, B, H): gy_t W_out^T of every step (one GEMM before the loop); out:
                       // alpha * dv_t
  const float* gr;     // (E, T, B, H) direct dL/dr_t, or null
  const float* v;      // (E, T+1, B, H) from the forward
  float* dv;           // (E, T+1, B, H)
  // The gradients summed in the kernel, each null where it is not learned:
  float* db_hid;        // (E, H): sum_{t >= 1, b} alpha * dv_t
  float* db_in;         // (E, H): the same values (b_in enters a_t as b_hid does)
  float* dh0;           // (E, H): sum_b dv_0
  float* tile_sums;     // (E, tiles, 2, H): each batch tile's two sums (when tiles > 1)
  uint32_t* arrivals;   // (E, cluster): tiles that stored their sums; all 0 between launches
  int64_t T;
  const float* alpha;  // (E, H)
  Activation activation;
  PersistentGeometry geometry;

  CTRNN_HD int64_t steps() const { return T + 1; }
  CTRNN_HD int64_t closing_phases() const {
    if (!db_hid && !db_in && !dh0) return 0;
    return geometry.tiles == 1 ? 1 : 3;
  }

 private:
  friend struct PersistentLoop<PersistentBackward>;

  CTRNN_HD bool sums_bias() const { return db_hid || db_in; }

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
    const int64_t H = g.H, S = g.slice, BH = g.B * H, state = (T + 1) * BH, t = T + 1 - s, next = g.buffer(s % 2);
    float* smem = cta.local();
    const float* partial = smem + g.partial();
    float* dv_sum = t >= 1 && sums_bias() ? smem + g.carry() : nullptr;
    float* dr_t = t >= 1 ? dr + tile.e * T * BH + (t - 1) * BH : nullptr;
    const float* gr_t = gr && t >= 1 ? gr + tile.e * T * BH + (t - 1) * BH : nullptr;
    const float* v_t = v + tile.e * state + t * BH;
    float* dv_t = dv + tile.e * state + t * BH;
    const float* dv_next = t < T ? dv_t + BH : nullptr;  // this thread's own writes of the last step
    for (int64_t item = thread; item < tile.rows * tile.cols; item += g.threads) {
      const int64_t b = item / tile.cols, jl = item - b * tile.cols, j = tile.c0 + jl;
      const int64_t idx = (tile.b0 + b) * H + j;  // (b, j) in the network's (B, H) slab
      const float al = alpha[tile.e * H + j];
      const float rec = product(g, partial, b, jl);
      float d = dr_t ? rec + dr_t[idx] : rec;
      if (gr_t) d += gr_t[idx];
      const float carried = dv_next ? dv_next[idx] : 0.0f;
      const float dvt = d * activate_grad(activation, v_t[idx]) + (1.0f - al) * carried;
      const float scaled = al * dvt;
      dv_t[idx] = dvt;
      if (dr_t) dr_t[idx] = scaled;
      if (dv_sum) dv_sum[b * S + jl] = t == T ? scaled : dv_sum[b * S + jl] + scaled;
      for (int p = 0; p < g.cluster; ++p) cta.shared(p)[next + b * H + j] = t >= 1 ? scaled : dvt;
    }
  }

  template <class Cta>
  CTRNN_HD void close(int64_t i, const PersistentTile& tile, const Cta& cta, int thread) const {
    const PersistentGeometry& g = geometry;
    const int64_t H = g.H, S = g.slice;
    float* smem = cta.local();
    float* last_flag = smem + g.bias();
    // null when nothing is summed (no offset on a null pointer: undefined behaviour on the host)
    uint32_t* arrived = arrivals ? arrivals + tile.e * g.cluster + cta.rank() : nullptr;
    const float* tiles_of_e = tile_sums ? tile_sums + tile.e * g.tiles * 2 * H : nullptr;
    if (i == 0) {
      const float* dv_sum = smem + g.carry();
      const float* dv_0 = smem + g.buffer((T + 1) % 2);  // the last step's buffer
      for (int64_t jl = thread; jl < tile.cols; jl += g.threads) {
        float bias = 0.0f, h0 = 0.0f;
        for (int64_t b = 0; b < tile.rows; ++b) {
          if (sums_bias()) bias += dv_sum[b * S + jl];
          if (dh0) h0 += dv_0[b * H + tile.c0 + jl];
        }
        if (g.tiles == 1) {
          write(tile.e * H + tile.c0 + jl, bias, h0);
        } else {
          float* mine = tile_sums + (tile.e * g.tiles + tile.index) * 2 * H + tile.c0 + jl;
          mine[0] = bias, mine[H] = h0;
        }
      }
      if (g.tiles > 1) fence_device();  // this thread's sums before the arrival that announces them
    } else if (i == 1) {
      if (thread == 0) last_flag[0] = count_arrival(arrived) == uint32_t(g.tiles - 1) ? 1.0f : 0.0f;
    } else if (last_flag[0] != 0.0f) {
      fence_device();  // the other tiles' sums after their arrivals
      for (int64_t jl = thread; jl < tile.cols; jl += g.threads) {
        const float* sums = tiles_of_e + tile.c0 + jl;
        float bias = load_device_coherent(sums), h0 = load_device_coherent(sums + H);
        for (int64_t k = 1; k < g.tiles; ++k) {
          bias += load_device_coherent(sums + k * 2 * H);
          h0 += load_device_coherent(sums + k * 2 * H + H);
        }
        write(tile.e * H + tile.c0 + jl, bias, h0);
      }
      if (thread == 0) *arrived = 0;
    }
  }

  CTRNN_HD void write(int64_t at, float bias, float h0) const {
    if (db_hid) db_hid[at] = bias;
    if (db_in) db_in[at] = bias;
    if (dh0) dh0[at] = h0;
  }
};

}  // namespace ctrnn::kernels
