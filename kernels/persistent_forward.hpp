#pragma once
// The persistent forward kernel: the whole time loop of the forward pass in one launch, written
// as phases between barriers (geometry, work split and shared-memory layout:
// persistent_geometry.hpp; the phase sequence and its barriers: persistent_loop.hpp). The device
// kernel (host/cuda/persistent.cu) runs the phases between __syncthreads() and cluster.sync(), the host
// emulator (host/orchestrated/cluster_emulator.hpp) runs them for every thread of every CTA in turn.
//
//   phase 0       load this CTA's slice of W_hid (columns c0 .. c0 + cols), b_hid + b_in of those
//                 columns, v_0 of those columns, and r_0 of the whole tile into buffer 0
//   phase 2t - 1  partial sums of (r_{t-1} W_hid)[b][j] for this CTA's columns (buffer (t-1) % 2)
//   phase 2t      for this CTA's columns j and the tile's rows b:
//                   a   = (r_{t-1} W_hid)[b][j] + (u_t W_in)[b][j] + (b_hid[j] + b_in[j])
//                   v_t = (1 - alpha) v_{t-1} + alpha a + alpha sigma_pre eps_t
//                   r_t = f(v_t) + sigma_post xi_t
//                 writes v_t and r_t to global memory (for BPTT and the readout GEMM) and r_t into
//                 buffer t % 2 of every CTA of the cluster
// Exactly LeakyStepForward's arithmetic (leaky_step.hpp) in the same order, with the same noise
// addresses: RandomStream(seed, purpose, e, t - 1, call).normal(b * H + j), b the row in the
// whole batch. With one part the product is summed in HostPrims::gemm's order too.
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/persistent_loop.hpp"
#include "kernels/philox.hpp"

namespace ctrnn::kernels {

struct PersistentForward : PersistentLoop<PersistentForward> {
  const float* w_hid;  // (E, H, H), constraints applied
  const float* b_in;   // (E, H)
  const float* b_hid;  // (E, H)
  const float* drive;  // (E, T, B, H): u_t W_in of every step (one GEMM before the loop)
  float* v;            // (E, T+1, B, H); slice 0 holds v_0 on entry
  float* r;            // (E, T+1, B, H); slice 0 holds r_0 on entry
  int64_t T;
  float alpha, sigma_pre, sigma_post;
  Activation activation;
  uint64_t seed;
  // The forward call, read from memory the backend writes before each call (as LeakyStepForward
  // reads it), so one captured CUDA graph serves every call of a shape.
  const uint32_t* call;
  PersistentGeometry geometry;
  uint32_t first_network = 0;  // network e draws noise as network first_network + e (Config)

  CTRNN_HD int64_t steps() const { return T; }
  CTRNN_HD int64_t closing_phases() const { return 0; }

 private:
  friend struct PersistentLoop<PersistentForward>;

  CTRNN_HD void load(const PersistentTile& tile, float* smem, int thread) const {
    const PersistentGeometry& g = geometry;
    const int64_t H = g.H, S = g.slice, BH = g.B * H, state = (T + 1) * BH;
    const float* w = w_hid + tile.e * H * H;
    for (int64_t i = thread; i < H * S; i += g.threads) {
      const int64_t k = i / S, jl = i - k * S;
      smem[i] = jl < tile.cols ? w[k * H + tile.c0 + jl] : 0.0f;
    }
    const float* r0 = r + tile.e * state + tile.b0 * H;
    float* state_now = smem + g.buffer(0);
    for (int64_t i = thread; i < tile.rows * H; i += g.threads) state_now[i] = r0[i];
    const float* v0 = v + tile.e * state + tile.b0 * H;
    float* carry = smem + g.carry();
    for (int64_t i = thread; i < tile.rows * S; i += g.threads) {
      const int64_t b = i / S, jl = i - b * S;
      if (jl < tile.cols) carry[i] = v0[b * H + tile.c0 + jl];
    }
    float* bias = smem + g.bias();
    for (int64_t jl = thread; jl < tile.cols; jl += g.threads)
      bias[jl] = b_hid[tile.e * H + tile.c0 + jl] + b_in[tile.e * H + tile.c0 + jl];
  }

  template <class Cta>
  CTRNN_HD void finish(int64_t t, const PersistentTile& tile, const Cta& cta, int thread) const {
    const PersistentGeometry& g = geometry;
    const int64_t H = g.H, S = g.slice, BH = g.B * H, state = (T + 1) * BH, next = g.buffer(t % 2);
    float* smem = cta.local();
    const float* partial = smem + g.partial();
    float* carry = smem + g.carry();
    const float* bias = smem + g.bias();
    const float* drive_t = drive + tile.e * T * BH + (t - 1) * BH;
    float* v_t = v + tile.e * state + t * BH;
    float* r_t = r + tile.e * state + t * BH;
    const RandomStream pre(seed, RandomPurpose::PreactNoise, uint32_t(tile.e) + first_network, uint32_t(t - 1), *call);
    const RandomStream post(seed, RandomPurpose::PostactNoise, uint32_t(tile.e) + first_network, uint32_t(t - 1),
                            *call);
    for (int64_t item = thread; item < tile.rows * tile.cols; item += g.threads) {
      const int64_t b = item / tile.cols, jl = item - b * tile.cols, j = tile.c0 + jl;
      const int64_t idx = (tile.b0 + b) * H + j;  // (b, j) in the network's (B, H) slab
      const float a = (product(g, partial, b, jl) + drive_t[idx]) + bias[jl];
      float vt = (1.0f - alpha) * carry[b * S + jl] + alpha * a;
      if (sigma_pre > 0.0f) vt += alpha * sigma_pre * pre.normal(uint32_t(idx));
      float rt = activate(activation, vt);
      if (sigma_post > 0.0f) rt += sigma_post * post.normal(uint32_t(idx));
      carry[b * S + jl] = vt;
      v_t[idx] = vt;
      r_t[idx] = rt;
      for (int p = 0; p < g.cluster; ++p) cta.shared(p)[next + b * H + j] = rt;
    }
  }

  template <class Cta>
  CTRNN_HD void close(int64_t, const PersistentTile&, const Cta&, int) const {}
};

}  // namespace ctrnn::kernels
