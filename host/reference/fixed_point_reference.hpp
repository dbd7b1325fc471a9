#pragma once
// The fixed-point map of docs/contract.md ("Fixed points") in plain loops, for one network e of
// an ensemble: the oracle the finder's engines are tested against, and what the finder itself
// evaluates in double once the search is over (F(x*), q(x*), Jacobians).
//
//   c    = u* W_in + b_in + b_hid                       the constant drive
//   F(v) = (1 - alpha) * v + alpha * (f(v) W_hid + c)
//   q(v) = 1/2 |F(v) - v|^2,  e = F(v) - v = alpha * (f(v) W_hid + c - v)
//   dq/dv = e (J - I),  with e J = (1 - alpha) * e + f'(v) * ((alpha * e) W_hid^T)
//   J[i][j] = dF_i/dv_j = (1 - alpha_i) delta_ij + alpha_i W_hid[j][i] f'(v_j)
// alpha (H): network e's alpha of each neuron (elementwise: `*`).
#include <cstdint>
#include <vector>

#include "ctrnn/params.hpp"
#include "reference/activation.hpp"

namespace ctrnn::reference {

// c (H) = u (I) W_in[e] + b_in[e] + b_hid[e]
template <class S>
void constant_drive(const Params<S>& p, int64_t e, const S* u, S* c) {
  const int64_t I = p.I, H = p.H;
  for (int64_t j = 0; j < H; ++j) {
    S acc = p.b_in[e * H + j] + p.b_hid[e * H + j];
    for (int64_t i = 0; i < I; ++i) acc += u[i] * p.w_in[(e * I + i) * H + j];
    c[j] = acc;
  }
}

// F(v) (H) for one state v (H) and drive c (H).
template <class S>
void step_map(const Params<S>& p, int64_t e, const S* alpha, Activation act, const S* v, const S* c, S* F) {
  const int64_t H = p.H;
  const S* W = &p.w_hid[e * H * H];
  for (int64_t j = 0; j < H; ++j) {
    S acc = c[j];
    for (int64_t i = 0; i < H; ++i) acc += activate(act, v[i]) * W[i * H + j];
    F[j] = (S(1) - alpha[j]) * v[j] + alpha[j] * acc;
  }
}

// q(v); grad (H), when not null, receives dq/dv.
template <class S>
S q_and_gradient(const Params<S>& p, int64_t e, const S* alpha, Activation act, const S* v, const S* c, S* grad) {
  const int64_t H = p.H;
  std::vector<S> F(size_t(H), S(0)), err(size_t(H), S(0));
  step_map(p, e, alpha, act, v, c, F.data());
  S q = 0;
  for (int64_t j = 0; j < H; ++j) {
    err[j] = F[j] - v[j];
    q += S(0.5) * err[j] * err[j];
  }
  if (grad) {
    const S* W = &p.w_hid[e * H * H];
    for (int64_t i = 0; i < H; ++i) {
      S back = 0;  // ((alpha * e) W_hid^T)_i
      for (int64_t j = 0; j < H; ++j) back += alpha[j] * err[j] * W[i * H + j];
      grad[i] = (S(1) - alpha[i]) * err[i] + activate_grad(act, v[i]) * back - err[i];
    }
  }
  return q;
}

// J (H, H), J[i][j] = dF_i/dv_j at v.
template <class S>
void jacobian(const Params<S>& p, int64_t e, const S* alpha, Activation act, const S* v, S* J) {
  const int64_t H = p.H;
  const S* W = &p.w_hid[e * H * H];
  for (int64_t j = 0; j < H; ++j) {
    const S d = activate_grad(act, v[j]);
    for (int64_t i = 0; i < H; ++i) J[i * H + j] = (i == j ? S(1) - alpha[i] : S(0)) + alpha[i] * d * W[j * H + i];
  }
}

}  // namespace ctrnn::reference
