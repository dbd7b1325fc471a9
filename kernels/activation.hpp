#pragma once
// The activation f and its derivative f' in float, as per-element code for the fused kernels and
// their host runs (CTRNN_HD). Same formulas and tie rules as host/reference/activation.hpp (the
// oracle): relu'(0) = 0; retanh = max(tanh v, 0) with torch.maximum's even split at the tie, so
// retanh'(0) = 1/2. On the host these call the same libm functions as the reference in float, so
// the host run matches it bit for bit; on the GPU, CUDA's tanhf/expf are within 2 ulp of them.
#include <cmath>

#include "ctrnn/config.hpp"
#include "kernels/host_device.hpp"

namespace ctrnn::kernels {

CTRNN_HD inline float activate(Activation a, float v) {
  switch (a) {
    case Activation::ReLU: return v > 0.0f ? v : 0.0f;
    case Activation::Tanh: return tanhf(v);
    case Activation::Sigmoid: return 1.0f / (1.0f + expf(-v));
    case Activation::ReTanh: {
      const float t = tanhf(v);
      return t > 0.0f ? t : 0.0f;
    }
  }
  return v;
}

CTRNN_HD inline float activate_grad(Activation a, float v) {
  switch (a) {
    case Activation::ReLU: return v > 0.0f ? 1.0f : 0.0f;
    case Activation::Tanh: {
      const float t = tanhf(v);
      return 1.0f - t * t;
    }
    case Activation::Sigmoid: {
      const float s = 1.0f / (1.0f + expf(-v));
      return s * (1.0f - s);
    }
    case Activation::ReTanh: {
      const float t = tanhf(v);
      if (t > 0.0f) return 1.0f - t * t;
      if (t == 0.0f) return 0.5f * (1.0f - t * t);
      return 0.0f;
    }
  }
  return 1.0f;
}

}  // namespace ctrnn::kernels
