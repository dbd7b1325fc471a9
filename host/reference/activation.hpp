#pragma once
// Activations and their derivatives for the CPU reference, written plainly with <cmath>.
#include <cmath>

#include "ctrnn/config.hpp"

namespace ctrnn::reference {

template <class S>
S activate(Activation a, S v) {
  switch (a) {
    case Activation::ReLU: return v > S(0) ? v : S(0);
    case Activation::Tanh: return std::tanh(v);
    case Activation::Sigmoid: return S(1) / (S(1) + std::exp(-v));
    case Activation::ReTanh: {
      S t = std::tanh(v);
      return t > S(0) ? t : S(0);
    }
  }
  return v;
}

// f'(v). At the kinks this follows PyTorch's autograd, which the golden data checks:
// relu'(0) = 0; retanh = maximum(tanh(v), 0) and torch.maximum splits the gradient evenly at a
// tie, so retanh'(0) = tanh'(0) / 2 = 1/2.
template <class S>
S activate_grad(Activation a, S v) {
  switch (a) {
    case Activation::ReLU: return v > S(0) ? S(1) : S(0);
    case Activation::Tanh: {
      S t = std::tanh(v);
      return S(1) - t * t;
    }
    case Activation::Sigmoid: {
      S s = S(1) / (S(1) + std::exp(-v));
      return s * (S(1) - s);
    }
    case Activation::ReTanh: {
      S t = std::tanh(v);
      if (t > S(0)) return S(1) - t * t;
      if (t == S(0)) return S(0.5) * (S(1) - t * t);
      return S(0);
    }
  }
  return S(1);
}

}  // namespace ctrnn::reference
