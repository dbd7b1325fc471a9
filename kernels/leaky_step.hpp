#pragma once
// The leaky time step of docs/contract.md, forward and backward, as per-element bodies
// (CTRNN_HD): the CUDA launches (host/cuda/leaky_step.cu) and the host runs of the orchestration
// execute these same lines.
//
// Layout (row-major, time-major, one network's slab contiguous, networks a stride apart):
//   v, r   (E, T+1, B, H)  slice t = 0 is the initial state
//   work   (E, T,   B, H)  forward: the drive u_t W_in + r_{t-1} W_hid (GEMMs, before the step)
//                          backward: gy_t W_out^T + alpha dv_{t+1} W_hid^T (GEMMs, before the step)
//   dv     (E, T+1, B, H)
// Each body is called once per index i of (E, B, H) for one step; pointers are the step's slab of
// network 0 and `*_stride` the distance between networks.
//
// Noise: Philox4x32-10 through ctrnn::RandomStream, the same counter-based generator (the
// algorithm of cuRAND's Philox) and exactly the CPU backend's addressing,
// RandomStream(seed, purpose, network e, step t-1, forward call).normal(b * H + h), so the CPU and
// GPU backends draw the same noise for a seed, whatever the launch geometry.
// Launchers: CudaPrims::apply<Body> (host/cuda/launch.cuh), instantiated for these bodies in
// host/cuda/leaky_step.cu; HostPrims::apply runs them in a loop.
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/philox.hpp"

namespace ctrnn::kernels {

// v_0 = 0, h0 (broadcast over the batch) or the kept v_T; r_0 = f(v_0) (no noise at t = 0).
struct InitialStateBody {
  const float* h0;    // (E, H) or null
  const float* kept;  // (E, B, H) or null; used when h0 is null
  float* v;           // slice 0 of (E, T+1, B, H)
  float* r;
  int64_t state_stride;  // (T+1) B H
  int64_t B, H;
  Activation activation;

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t BH = B * H, e = i / BH, j = i - e * BH;
    float v0 = 0.0f;
    if (h0)
      v0 = h0[e * H + j % H];
    else if (kept)
      v0 = kept[i];
    v[e * state_stride + j] = v0;
    r[e * state_stride + j] = activate(activation, v0);
  }
};

// v_t = (1 - alpha) v_{t-1} + alpha (drive_t + b_hid + b_in) + alpha sigma_pre eps_t
// r_t = f(v_t) + sigma_post xi_t
struct LeakyStepForward {
  const float* drive;  // slab t-1 of work (E, T, B, H)
  int64_t drive_stride;
  const float* b_in;   // (E, H)
  const float* b_hid;  // (E, H)
  const float* v_prev;  // slice t-1 of v
  float* v;             // slice t of v
  float* r;             // slice t of r
  int64_t state_stride;  // (T+1) B H, for v_prev, v and r
  int64_t B, H;
  float alpha, sigma_pre, sigma_post;
  Activation activation;
  uint64_t seed;
  uint32_t step;  // t - 1: the noise sub-stream, as the CPU backend numbers it
  // The forward call, read from memory the backend writes before each call (not a value baked into
  // the launch), so one captured CUDA graph serves every call of a shape.
  const uint32_t* call;
  uint32_t first_network = 0;  // network e draws noise as network first_network + e (Config)

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t BH = B * H, e = i / BH, j = i - e * BH, h = j % H;
    const uint32_t call = *this->call, stream = uint32_t(e) + first_network;
    const float a = drive[e * drive_stride + j] + (b_hid[e * H + h] + b_in[e * H + h]);
    float vt = (1.0f - alpha) * v_prev[e * state_stride + j] + alpha * a;
    if (sigma_pre > 0.0f)
      vt += alpha * sigma_pre * RandomStream(seed, RandomPurpose::PreactNoise, stream, step, call).normal(uint32_t(j));
    float rt = activate(activation, vt);
    if (sigma_post > 0.0f)
      rt += sigma_post * RandomStream(seed, RandomPurpose::PostactNoise, stream, step, call).normal(uint32_t(j));
    v[e * state_stride + j] = vt;
    r[e * state_stride + j] = rt;
  }
};

// dv_t = (dr_t + gr_t) f'(v_t) + (1 - alpha) dv_{t+1}, where dr_t already holds
// gy_t W_out^T + alpha dv_{t+1} W_hid^T (t >= 1) or alpha dv_1 W_hid^T (t = 0), and dv_{T+1} = 0.
struct LeakyStepBackward {
  const float* dr;  // the step's slab of work (t >= 1) or of dr0 (t = 0)
  int64_t dr_stride;
  const float* gr;  // slab t-1 of (E, T, B, H) direct dL/dr, or null (always null at t = 0)
  int64_t gr_stride;
  const float* v;         // slice t of v
  const float* dv_next;   // slice t+1 of dv, or null at t = T
  float* dv;              // slice t of dv
  int64_t state_stride;   // (T+1) B H, for v, dv_next and dv
  int64_t B, H;
  float alpha;
  Activation activation;

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t BH = B * H, e = i / BH, j = i - e * BH;
    float d = dr[e * dr_stride + j];
    if (gr) d += gr[e * gr_stride + j];
    const int64_t s = e * state_stride + j;
    const float carried = dv_next ? dv_next[s] : 0.0f;
    dv[s] = d * activate_grad(activation, v[s]) + (1.0f - alpha) * carried;
  }
};

// Standard normals of one (seed, purpose, network, step, call) address into out (E, n): the noise
// the forward step adds, written out so GPU tests can compare it with the host's draws.
struct NoiseBody {
  float* out;
  int64_t n;  // per network
  uint64_t seed;
  RandomPurpose purpose;
  uint32_t step, call;
  uint32_t first_network = 0;

  CTRNN_HD void operator()(int64_t i) const {
    const int64_t e = i / n;
    out[i] = RandomStream(seed, purpose, uint32_t(e) + first_network, step, call).normal(uint32_t(i - e * n));
  }
};

}  // namespace ctrnn::kernels
