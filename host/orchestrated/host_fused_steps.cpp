#include "orchestrated/host_fused_steps.hpp"

#include <vector>

#include "kernels/activation.hpp"
#include "normal_fill.hpp"

namespace ctrnn::detail {
namespace {

using kernels::activate;
using kernels::activate_grad;

// f(v) and f'(v) with the activation a template argument: activate()'s switch folds away and the
// neuron loops below vectorize, for every activation (tanh and the logistic function are the
// straight-line code of kernels/float_math.hpp, not libm calls).
template <Activation A>
inline float act(float v) {
  return activate(A, v);
}
template <Activation A>
inline float act_grad(float v) {
  return activate_grad(A, v);
}

// Calls f.template operator()<A>() for the runtime activation a.
template <class F>
void with_activation(Activation a, const F& f) {
  switch (a) {
    case Activation::ReLU: return f.template operator()<Activation::ReLU>();
    case Activation::Tanh: return f.template operator()<Activation::Tanh>();
    case Activation::Sigmoid: return f.template operator()<Activation::Sigmoid>();
    case Activation::ReTanh: return f.template operator()<Activation::ReTanh>();
  }
}

struct InitialRows {
  const kernels::InitialStateBody& s;
  int64_t begin, end;
  template <Activation A>
  void operator()() const {
    const int64_t B = s.B, H = s.H;
    for (int64_t row = begin; row < end; ++row) {
      const int64_t e = row / B, j0 = (row - e * B) * H;
      float* __restrict v = s.v + e * s.state_stride + j0;
      float* __restrict r = s.r + e * s.state_stride + j0;
      if (s.h0) {
        const float* __restrict h0 = s.h0 + e * H;
        for (int64_t h = 0; h < H; ++h) v[h] = h0[h], r[h] = act<A>(h0[h]);
      } else if (s.kept) {
        const float* __restrict kept = s.kept + e * B * H + j0;
        for (int64_t h = 0; h < H; ++h) v[h] = kept[h], r[h] = act<A>(kept[h]);
      } else {
        const float r0 = act<A>(0.0f);
        for (int64_t h = 0; h < H; ++h) v[h] = 0.0f, r[h] = r0;
      }
    }
  }
};

// The neuron loops of one row, as functions: GCC vectorizes them only when it may assume that
// the arrays do not overlap, which it takes from __restrict on parameters (on the block-scope
// pointers of a row loop it falls back to run-time overlap checks, and with seven arrays it gives
// up on vectorizing: the forward step took 5x longer, a quarter of the train step at H = 256).
template <Activation A>
void noiseless_forward_row(int64_t H, const float* __restrict drive, const float* __restrict b_in,
                           const float* __restrict b_hid, const float* __restrict alpha,
                           const float* __restrict v_prev, float* __restrict v, float* __restrict r) {
  for (int64_t h = 0; h < H; ++h) {
    const float vt = (1.0f - alpha[h]) * v_prev[h] + alpha[h] * (drive[h] + (b_hid[h] + b_in[h]));
    v[h] = vt;
    r[h] = act<A>(vt);
  }
}

// With noise: the standard normals of the row (the ones of a sigma that is 0 are not read).
template <Activation A, bool kPre, bool kPost>
void noisy_forward_row(int64_t H, const float* __restrict drive, const float* __restrict b_in,
                       const float* __restrict b_hid, const float* __restrict alpha, const float* __restrict v_prev,
                       float sigma_pre, const float* __restrict pre_noise, float sigma_post,
                       const float* __restrict post_noise, float* __restrict v, float* __restrict r) {
  for (int64_t h = 0; h < H; ++h) {
    float vt = (1.0f - alpha[h]) * v_prev[h] + alpha[h] * (drive[h] + (b_hid[h] + b_in[h]));
    if (kPre) vt += alpha[h] * sigma_pre * pre_noise[h];
    float rt = act<A>(vt);
    if (kPost) rt += sigma_post * post_noise[h];
    v[h] = vt;
    r[h] = rt;
  }
}

// y += x over a row (restrict parameters: vectorized).
void add_row(int64_t n, const float* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

template <Activation A, bool kGr, bool kNext, bool kReplace>
void backward_row(int64_t H, float* __restrict dr, const float* __restrict gr, const float* __restrict alpha,
                  const float* __restrict v, const float* __restrict dv_next, float* __restrict dv) {
  for (int64_t h = 0; h < H; ++h) {
    float d = dr[h];
    if (kGr) d += gr[h];
    const float carried = kNext ? dv_next[h] : 0.0f;  // added even when 0: -0 + 0 = +0, as the body
    const float dvt = d * act_grad<A>(v[h]) + (1.0f - alpha[h]) * carried;
    dv[h] = dvt;
    if (kReplace) dr[h] = alpha[h] * dvt;
  }
}

struct ForwardRows {
  const kernels::LeakyStepForward& s;
  int64_t begin, end;
  template <Activation A>
  void operator()() const {
    const int64_t B = s.B, H = s.H;
    std::vector<float> pre_noise, post_noise;
    for (int64_t row = begin; row < end; ++row) {
      const int64_t e = row / B, j0 = (row - e * B) * H, state = e * s.state_stride + j0;
      const float* __restrict drive = s.drive + e * s.drive_stride + j0;
      const float* __restrict b_in = s.b_in + e * H;
      const float* __restrict b_hid = s.b_hid + e * H;
      const float* __restrict alpha = s.alpha + e * H;
      const float* __restrict v_prev = s.v_prev + state;
      float* __restrict v = s.v + state;
      float* __restrict r = s.r + state;
      const float sigma_pre = s.sigma_pre[e], sigma_post = s.sigma_post[e];
      const bool with_pre = sigma_pre > 0.0f, with_post = sigma_post > 0.0f;
      if (!with_pre && !with_post) {
        noiseless_forward_row<A>(H, drive, b_in, b_hid, alpha, v_prev, v, r);
        continue;
      }
      // The draws of LeakyStepForward, element j0 + h of network e's stream for this step
      // (RandomStream::normal's bits, batched: host/normal_fill.hpp).
      pre_noise.resize(size_t(H)), post_noise.resize(size_t(H));
      const RandomStream pre(s.seed, RandomPurpose::PreactNoise, uint32_t(e) + s.first_network, s.step, *s.call);
      const RandomStream post_stream(s.seed, RandomPurpose::PostactNoise, uint32_t(e) + s.first_network, s.step,
                                     *s.call);
      if (with_pre) fill_normals(pre, uint32_t(j0), H, pre_noise.data());
      if (with_post) fill_normals(post_stream, uint32_t(j0), H, post_noise.data());
      const auto noisy_row = with_pre ? (with_post ? noisy_forward_row<A, true, true> : noisy_forward_row<A, true, false>)
                                      : noisy_forward_row<A, false, true>;
      noisy_row(H, drive, b_in, b_hid, alpha, v_prev, sigma_pre, pre_noise.data(), sigma_post, post_noise.data(), v, r);
    }
  }
};

struct BackwardRows {
  const kernels::LeakyStepBackward& s;
  int64_t begin, end;

  // gr and dv_next present or not, and whether dr is replaced by alpha * dv, decided outside the
  // neuron loop.
  template <Activation A, bool kGr, bool kNext, bool kReplace>
  void rows() const {
    const int64_t B = s.B, H = s.H;
    for (int64_t row = begin; row < end; ++row) {
      const int64_t e = row / B, j0 = (row - e * B) * H, state = e * s.state_stride + j0;
      float* __restrict dr = s.dr + e * s.dr_stride + j0;
      const float* __restrict gr = kGr ? s.gr + e * s.gr_stride + j0 : nullptr;
      const float* __restrict alpha = s.alpha + e * H;
      const float* __restrict v = s.v + state;
      const float* __restrict dv_next = kNext ? s.dv_next + state : nullptr;
      float* __restrict dv = s.dv + state;
      backward_row<A, kGr, kNext, kReplace>(H, dr, gr, alpha, v, dv_next, dv);
    }
  }
  template <Activation A, bool kGr, bool kNext>
  void rows_of() const {
    s.replace ? rows<A, kGr, kNext, true>() : rows<A, kGr, kNext, false>();
  }
  template <Activation A>
  void operator()() const {
    if (s.gr)
      s.dv_next ? rows_of<A, true, true>() : rows_of<A, true, false>();
    else
      s.dv_next ? rows_of<A, false, true>() : rows_of<A, false, false>();
  }
};

// MseGrad over one network's n = T B O elements: the body's expression with its per-network
// factors read once; the mask's shape decided outside the loop.
template <LossMask kShape>
void mse_grad_row(int64_t n, int64_t O, float lambda, float den, const float* __restrict y,
                  const float* __restrict target, const float* __restrict mask, float* __restrict gy) {
  for (int64_t k = 0; k < n; ++k)
    gy[k] = lambda * 2.0f * kernels::mask_at(mask, kShape, k, O) * (y[k] - target[k]) / den;
}

// One network's elements of one learned array: OptimizerUpdate::updated's arithmetic with the
// network's clip factor and coefficients computed once. kWrite: store the new values (the
// update); else count the elements whose new parameter or moment is not finite (UpdateNonFinite).
template <bool kWrite, bool kAdam, bool kPlastic>
int64_t update_row(int64_t n, float* __restrict p, const float* __restrict g, float* __restrict m,
                   float* __restrict v, const float* __restrict plasticity, float clip, body::AdamCoeffs adam, float lr,
                   float momentum, float weight_decay, bool first_step) {
  int64_t nonfinite = 0;
  for (int64_t i = 0; i < n; ++i) {
    float p_i = p[i], m_i = m[i], v_i = v[i];
    const float scale = kPlastic ? plasticity[i] : 1.0f;
    const float grad = g[i] * clip;
    if (kAdam) body::adam_update(p_i, grad, m_i, v_i, scale, adam);
    else body::sgd_update(p_i, grad, m_i, scale, lr, momentum, weight_decay, first_step);
    if (kWrite) {
      p[i] = p_i, m[i] = m_i, v[i] = v_i;
    } else {
      nonfinite += body::finite(p_i) && body::finite(m_i) && body::finite(v_i) ? 0 : 1;
    }
  }
  return nonfinite;
}

template <bool kWrite>
int64_t update_network(const kernels::OptimizerUpdate& s, int64_t e) {
  const body::NetworkCoeffs& c = s.coeffs[e];
  float clip = 1.0f;  // as OptimizerUpdate::updated
  if (c.clip > 0) {
    const double k = c.clip / (sqrt(s.norm_sq[e]) + 1e-6);
    clip = float(k < 1.0 ? k : 1.0);
  }
  body::AdamCoeffs adam = c.adam;
  if (!s.decay) adam.weight_decay = 0;
  const float lr = float(c.lr), momentum = float(c.momentum), weight_decay = s.decay ? float(c.weight_decay) : 0.0f;
  const int64_t n = s.n, at = e * n;
  const float* plasticity = s.plasticity ? s.plasticity + at : nullptr;
  const bool is_adam = s.kind == kernels::UpdateKind::Adam;
  const auto row = is_adam ? (plasticity ? update_row<kWrite, true, true> : update_row<kWrite, true, false>)
                           : (plasticity ? update_row<kWrite, false, true> : update_row<kWrite, false, false>);
  return row(n, s.p + at, s.g + at, s.m + at, s.v + at, plasticity, clip, adam, lr, momentum, weight_decay,
             s.first_step);
}

}  // namespace

void initial_state_rows(const kernels::InitialStateBody& s, int64_t row_begin, int64_t row_end) {
  with_activation(s.activation, InitialRows{s, row_begin, row_end});
}

void leaky_step_forward_rows(const kernels::LeakyStepForward& s, int64_t row_begin, int64_t row_end) {
  with_activation(s.activation, ForwardRows{s, row_begin, row_end});
}

void leaky_step_backward_rows(const kernels::LeakyStepBackward& s, int64_t row_begin, int64_t row_end) {
  with_activation(s.activation, BackwardRows{s, row_begin, row_end});
}

void bias_broadcast_rows(const kernels::BroadcastRows& s, int64_t row_begin, int64_t row_end) {
  const int64_t cols = s.cols;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* __restrict bias = s.bias + (row / s.rows) * cols;
    float* __restrict out = s.out + row * cols;
    for (int64_t c = 0; c < cols; ++c) out[c] = bias[c];
  }
}

void firing_rate_grad_rows(const kernels::FiringRateGrad& s, int64_t row_begin, int64_t row_end) {
  const int64_t rows_per_network = s.T * s.B, H = s.H;
  std::vector<float> increment(static_cast<size_t>(H));
  int64_t network = -1;  // whose increments `increment` holds
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t e = row / rows_per_network;
    if (e != network) {
      for (int64_t h = 0; h < H; ++h) increment[size_t(h)] = s.increment(e, h);
      network = e;
    }
    add_row(H, increment.data(), s.gr + row * H);
  }
}

}  // namespace ctrnn::detail

namespace ctrnn::detail {

void mse_grad_networks(const kernels::MseGrad& s, int64_t e_begin, int64_t e_end) {
  const int64_t n = s.n;
  for (int64_t e = e_begin; e < e_end; ++e) {
    const float lambda = float(s.coeffs[e].lambda[kMse]);
    const float den = float(s.stats[kernels::kStatMseDen * s.E + e]);
    const float* y = s.y + e * n;
    const float* target = s.target + e * s.target_stride;
    float* gy = s.gy + e * n;
    switch (s.mask_shape) {
      case LossMask::TimeBatch: mse_grad_row<LossMask::TimeBatch>(n, s.O, lambda, den, y, target, s.mask, gy); break;
      case LossMask::TimeBatchOutput:
        mse_grad_row<LossMask::TimeBatchOutput>(n, s.O, lambda, den, y, target, s.mask, gy);
        break;
      default: mse_grad_row<LossMask::None>(n, s.O, lambda, den, y, target, s.mask, gy);
    }
  }
}

void optimizer_update_networks(const kernels::OptimizerUpdate& s, int64_t e_begin, int64_t e_end) {
  for (int64_t e = e_begin; e < e_end; ++e)
    if (!s.apply || s.apply[e] != 0.0) update_network<true>(s, e);
}

double update_nonfinite_count(const kernels::UpdateNonFinite& s, int64_t e) {
  int64_t count = 0;
  for (int a = 0; a < kernels::kMaxUpdateArrays; ++a)  // the unused arrays cover no elements
    if (s.offset[a + 1] > s.offset[a]) count += update_network<false>(s.arrays[a], e);
  return double(count);
}

}  // namespace ctrnn::detail
