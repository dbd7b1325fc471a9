#pragma once
// The CPU reference of docs/contract.md: forward pass and BPTT for E networks, in plain loops.
// This is the oracle every other path is tested against, so it states the equations directly:
//
//   v_0 = h0, r_0 = f(v_0)
//   a_t = r_{t-1} W_hid + b_hid + u_t W_in + b_in
//   v_t = (1 - alpha) v_{t-1} + alpha a_t + alpha sigma_pre eps_t
//   r_t = f(v_t) + sigma_post xi_t
//   y_t = r_t W_out + b_out
//
// with alpha (elementwise: each network's alpha of each hidden neuron, Params::alpha) and the
// sigmas (each network's, Dynamics).
// Noise enters as given standard-normal arrays so a fixed draw makes it a constant (gradient
// checks) and two backends can be fed the same numbers.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ctrnn/params.hpp"
#include "reference/activation.hpp"

namespace ctrnn::reference {

// Everything forward computes and backward needs. t = 0 holds the initial state.
template <class S>
struct Trace {
  int64_t E = 0, T = 0, B = 0, H = 0, O = 0;
  std::vector<S> v;  // (E, T+1, B, H) membrane potential
  std::vector<S> r;  // (E, T+1, B, H) firing rate (with post-activation noise)
  std::vector<S> y;  // (E, T,   B, O) readout

  const S* v_at(int64_t e, int64_t t) const { return &v[((e * (T + 1) + t) * B) * H]; }
  const S* r_at(int64_t e, int64_t t) const { return &r[((e * (T + 1) + t) * B) * H]; }
};

// Start of network e's input at step t (0-based) of an input u of shape (T, B, I), shared by
// all networks, or (E, T, B, I).
template <class S>
const S* input_at(const S* u, bool u_per_network, int64_t e, int64_t t, int64_t T, int64_t B, int64_t I) {
  return u + ((u_per_network ? e * T : 0) + t) * B * I;
}

// out(B x N) += x(B x K) W(K x N), all row-major.
template <class S>
void add_matmul(const S* x, const S* W, S* out, int64_t B, int64_t K, int64_t N) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k) {
      const S xk = x[b * K + k];
      for (int64_t n = 0; n < N; ++n) out[b * N + n] += xk * W[k * N + n];
    }
}

// out(B x K) += g(B x N) W(K x N)^T
template <class S>
void add_matmul_transposed(const S* g, const S* W, S* out, int64_t B, int64_t K, int64_t N) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k) {
      S acc = 0;
      for (int64_t n = 0; n < N; ++n) acc += g[b * N + n] * W[k * N + n];
      out[b * K + k] += acc;
    }
}

// dW(K x N) += x(B x K)^T g(B x N) * scale
template <class S>
void add_outer(const S* x, const S* g, S* dW, int64_t B, int64_t K, int64_t N, S scale) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k) {
      const S xk = scale * x[b * K + k];
      for (int64_t n = 0; n < N; ++n) dW[k * N + n] += xk * g[b * N + n];
    }
}

// u: (T, B, I) or (E, T, B, I); v0: (E, B, H); eps_pre, eps_post: (E, T, B, H) standard normals,
// or null for none (their sigma is taken from dyn, per network; a network whose sigma is 0 adds
// none).
template <class S>
Trace<S> forward(const Params<S>& p, const Dynamics& dyn, const S* u, bool u_per_network, int64_t T,
                 int64_t B, const S* v0, const S* eps_pre, const S* eps_post) {
  const int64_t E = p.E, I = p.I, H = p.H, O = p.O;
  Trace<S> tr;
  tr.E = E, tr.T = T, tr.B = B, tr.H = H, tr.O = O;
  tr.v.assign(E * (T + 1) * B * H, S(0));
  tr.r.assign(E * (T + 1) * B * H, S(0));
  tr.y.assign(E * T * B * O, S(0));
  std::vector<S> a(B * H);
  for (int64_t e = 0; e < E; ++e) {
    const S* W_in = &p.w_in[e * I * H];
    const S* W_hid = &p.w_hid[e * H * H];
    const S* W_out = &p.w_out[e * H * O];
    const S* alpha = &p.alpha[size_t(e * H)];  // this network's alpha of each neuron
    const S sigma_pre = S(dyn.preact_noise[size_t(e)]), sigma_post = S(dyn.postact_noise[size_t(e)]);
    S* v_init = &tr.v[e * (T + 1) * B * H];
    S* r_init = &tr.r[e * (T + 1) * B * H];
    for (int64_t i = 0; i < B * H; ++i) {
      v_init[i] = v0[e * B * H + i];
      r_init[i] = activate(dyn.activation, v_init[i]);  // no noise at t = 0
    }
    for (int64_t t = 1; t <= T; ++t) {
      const S* r_prev = &tr.r[((e * (T + 1) + t - 1) * B) * H];
      const S* v_prev = &tr.v[((e * (T + 1) + t - 1) * B) * H];
      S* v = &tr.v[((e * (T + 1) + t) * B) * H];
      S* r = &tr.r[((e * (T + 1) + t) * B) * H];
      const S* u_t = input_at(u, u_per_network, e, t - 1, T, B, I);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) a[b * H + h] = p.b_hid[e * H + h] + p.b_in[e * H + h];
      add_matmul(r_prev, W_hid, a.data(), B, H, H);
      add_matmul(u_t, W_in, a.data(), B, I, H);
      const int64_t noise_base = ((e * T + (t - 1)) * B) * H;
      for (int64_t i = 0; i < B * H; ++i) {
        const S al = alpha[i % H];
        v[i] = (S(1) - al) * v_prev[i] + al * a[i];
        if (eps_pre && sigma_pre > 0) v[i] += al * sigma_pre * eps_pre[noise_base + i];
        r[i] = activate(dyn.activation, v[i]);
        if (eps_post && sigma_post > 0) r[i] += sigma_post * eps_post[noise_base + i];
      }
      S* y = &tr.y[((e * T + (t - 1)) * B) * O];
      for (int64_t b = 0; b < B; ++b)
        for (int64_t o = 0; o < O; ++o) y[b * O + o] = p.b_out[e * O + o];
      add_matmul(r, W_out, y, B, H, O);
    }
  }
  return tr;
}

// BPTT. gy: (E, T, B, O) = dL/dy; gr: (E, T, B, H) = direct dL/dr (may be null). Returns the
// gradient of every parameter, including both hidden-side biases and h0 (sum over the batch of
// dv_0), and with `alpha_gradient` alpha's (else zeros); the caller keeps those that are learned.
// du, when not null, receives dL/du shaped as u: du_t = (alpha * dv_t) W_in^T, summed over the
// networks when u is shared (T, B, I), per network when u is (E, T, B, I). dL/dalpha (E, H): v_t
// depends on its neuron's alpha directly as dv_t/dalpha = a_t + sigma_pre eps_t - v_{t-1} =
// (v_t - v_{t-1}) / alpha, so dL/dalpha_j = sum_{t >= 1, b} dv_t[b][j] (v_t - v_{t-1})[b][j] / alpha_j
// (tests/test_gradients.cpp checks it against finite differences).
template <class S>
Gradients<S> backward(const Params<S>& p, const Dynamics& dyn, const S* u, bool u_per_network,
                      const Trace<S>& tr, const S* gy, const S* gr, S* du = nullptr, bool alpha_gradient = false) {
  const int64_t E = p.E, I = p.I, H = p.H, O = p.O, T = tr.T, B = tr.B;
  Gradients<S> g = Gradients<S>::zeros(E, I, H, O);
  if (du) std::fill(du, du + (u_per_network ? E : 1) * T * B * I, S(0));
  // alpha_dv: alpha * dv_t elementwise (alpha of each column's neuron), dL/da_t
  std::vector<S> dr(B * H), dv(B * H), dv_next(B * H), carried(B * H), alpha_dv(B * H);
  for (int64_t e = 0; e < E; ++e) {
    const S* W_in = &p.w_in[e * I * H];
    const S* W_hid = &p.w_hid[e * H * H];
    const S* W_out = &p.w_out[e * H * O];
    const S* alpha = &p.alpha[size_t(e * H)];
    std::fill(dv_next.begin(), dv_next.end(), S(0));  // dv_{T+1} = 0
    for (int64_t t = T; t >= 0; --t) {
      // dr_t = gy_t W_out^T + gr_t + (alpha * dv_{t+1}) W_hid^T   (r_0 gets only the recurrent term)
      std::fill(dr.begin(), dr.end(), S(0));
      if (t >= 1) {
        const S* gy_t = gy + ((e * T + (t - 1)) * B) * O;
        add_matmul_transposed(gy_t, W_out, dr.data(), B, H, O);
        if (gr)
          for (int64_t i = 0; i < B * H; ++i) dr[i] += gr[((e * T + (t - 1)) * B) * H + i];
      }
      if (t < T) {
        std::fill(carried.begin(), carried.end(), S(0));
        for (int64_t i = 0; i < B * H; ++i) alpha_dv[i] = alpha[i % H] * dv_next[i];
        add_matmul_transposed(alpha_dv.data(), W_hid, carried.data(), B, H, H);
        for (int64_t i = 0; i < B * H; ++i) dr[i] += carried[i];
      }
      // dv_t = dr_t * f'(v_t) + (1 - alpha) dv_{t+1}
      const S* v_t = tr.v_at(e, t);
      for (int64_t i = 0; i < B * H; ++i)
        dv[i] = dr[i] * activate_grad(dyn.activation, v_t[i]) + (S(1) - alpha[i % H]) * dv_next[i];
      if (t >= 1) {
        const S* gy_t = gy + ((e * T + (t - 1)) * B) * O;
        // dW_out += r_t^T gy_t, db_out += sum_b gy_t
        add_outer(tr.r_at(e, t), gy_t, &g.w_out[e * H * O], B, H, O, S(1));
        for (int64_t b = 0; b < B; ++b)
          for (int64_t o = 0; o < O; ++o) g.b_out[e * O + o] += gy_t[b * O + o];
        // With alpha_dv = alpha * dv_t: dW_hid += r_{t-1}^T alpha_dv, dW_in += u_t^T alpha_dv,
        // db_hid = db_in += sum_b alpha_dv, du_t += alpha_dv W_in^T
        for (int64_t i = 0; i < B * H; ++i) alpha_dv[i] = alpha[i % H] * dv[i];
        add_outer(tr.r_at(e, t - 1), alpha_dv.data(), &g.w_hid[e * H * H], B, H, H, S(1));
        add_outer(input_at(u, u_per_network, e, t - 1, T, B, I), alpha_dv.data(), &g.w_in[e * I * H], B, I, H,
                  S(1));
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h) {
            g.b_hid[e * H + h] += alpha_dv[b * H + h];
            g.b_in[e * H + h] += alpha_dv[b * H + h];
          }
        if (du)
          add_matmul_transposed(alpha_dv.data(), W_in, du + ((u_per_network ? e * T : 0) + t - 1) * B * I, B, I, H);
        if (alpha_gradient) {  // sum_b dv_t (v_t - v_{t-1}); divided by alpha once the sum over t is done
          const S* v_prev = tr.v_at(e, t - 1);
          for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h) g.alpha[e * H + h] += dv[b * H + h] * (v_t[b * H + h] - v_prev[b * H + h]);
        }
      } else {
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < H; ++h) g.h0[e * H + h] += dv[b * H + h];  // dh0 = sum_b dv_0
      }
      std::swap(dv, dv_next);
    }
    for (int64_t h = 0; alpha_gradient && h < H; ++h) g.alpha[e * H + h] /= alpha[h];
  }
  return g;
}

}  // namespace ctrnn::reference
