#pragma once
// The activation f and its derivative f' in float, as per-element code for the fused kernels and
// their host runs (CTRNN_HD). Same formulas and tie rules as host/reference/activation.hpp (the
// oracle): relu'(0) = 0; retanh = max(tanh v, 0) with torch.maximum's even split at the tie, so
// retanh'(0) = 1/2. tanh and the logistic function: on the host the straight-line float versions
// of float_math.hpp, which vectorize in the fused loops (within 1-2 ulp of the exact value, as
// libm's are: the reference, in libm, then differs from the host run by a few ulp); on the GPU,
// CUDA's tanhf/expf (within 2 ulp).
#include <cmath>

#include "ctrnn/config.hpp"
#include "kernels/float_math.hpp"
#include "kernels/host_device.hpp"

namespace ctrnn::kernels {

CTRNN_HD inline float tanh_of(float v) {
#ifdef __CUDA_ARCH__
  return tanhf(v);
#else
  return tanh_f32(v);
#endif
}

CTRNN_HD inline float logistic_of(float v) {
#ifdef __CUDA_ARCH__
  return 1.0f / (1.0f + expf(-v));
#else
  return logistic_f32(v);
#endif
}

CTRNN_HD inline float activate(Activation a, float v) {
  switch (a) {
    case Activation::ReLU: return v > 0.0f ? v : 0.0f;
    case Activation::Tanh: return tanh_of(v);
    case Activation::Sigmoid: return logistic_of(v);
    case Activation::ReTanh: {
      const float t = tanh_of(v);
      return t > 0.0f ? t : 0.0f;
    }
  }
  return v;
}

CTRNN_HD inline float activate_grad(Activation a, float v) {
  switch (a) {
    case Activation::ReLU: return v > 0.0f ? 1.0f : 0.0f;
    case Activation::Tanh: {
      const float t = tanh_of(v);
      return 1.0f - t * t;
    }
    case Activation::Sigmoid: {
      const float s = logistic_of(v);
      return s * (1.0f - s);
    }
    case Activation::ReTanh: {
      const float t = tanh_of(v);
      if (t > 0.0f) return 1.0f - t * t;
      if (t == 0.0f) return 0.5f * (1.0f - t * t);
      return 0.0f;
    }
  }
  return 1.0f;
}

}  // namespace ctrnn::kernels
