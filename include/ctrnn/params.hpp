#pragma once
// The learned state of E networks, flat and row-major, every array with a leading E axis.
#include <cstdint>
#include <vector>

#include "ctrnn/config.hpp"

namespace ctrnn {

template <class T>
struct Params {
  int64_t E = 0, I = 0, H = 0, O = 0;
  std::vector<T> w_in;   // (E, I, H)  pre x post
  std::vector<T> w_hid;  // (E, H, H)
  std::vector<T> w_out;  // (E, H, O)
  std::vector<T> b_in;   // (E, H)
  std::vector<T> b_hid;  // (E, H)
  std::vector<T> b_out;  // (E, O)
  std::vector<T> h0;     // (E, H)     initial membrane potential (learn mode)

  static Params zeros(int64_t e, int64_t i, int64_t h, int64_t o) {
    Params p;
    p.E = e, p.I = i, p.H = h, p.O = o;
    p.w_in.assign(e * i * h, T(0));
    p.w_hid.assign(e * h * h, T(0));
    p.w_out.assign(e * h * o, T(0));
    p.b_in.assign(e * h, T(0));
    p.b_hid.assign(e * h, T(0));
    p.b_out.assign(e * o, T(0));
    p.h0.assign(e * h, T(0));
    return p;
  }

  std::vector<T>& weight(Layer l) { return l == Layer::Input ? w_in : l == Layer::Hidden ? w_hid : w_out; }
  const std::vector<T>& weight(Layer l) const {
    return l == Layer::Input ? w_in : l == Layer::Hidden ? w_hid : w_out;
  }
  std::vector<T>& bias(Layer l) { return l == Layer::Input ? b_in : l == Layer::Hidden ? b_hid : b_out; }
  const std::vector<T>& bias(Layer l) const {
    return l == Layer::Input ? b_in : l == Layer::Hidden ? b_hid : b_out;
  }

  // Every array in a fixed order (w_in, w_hid, w_out, b_in, b_hid, b_out, h0): for code that
  // treats parameters uniformly (optimizers, gradient checks, checkpoints).
  std::vector<std::vector<T>*> arrays() { return {&w_in, &w_hid, &w_out, &b_in, &b_hid, &b_out, &h0}; }
  std::vector<const std::vector<T>*> arrays() const {
    return {&w_in, &w_hid, &w_out, &b_in, &b_hid, &b_out, &h0};
  }
};

// dL/d(parameter), laid out like the parameters.
template <class T>
using Gradients = Params<T>;

// Names of Params::arrays(), in the same order.
inline const char* const kParamNames[7] = {"w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out", "h0"};

// What the time step needs beyond the parameters. Noise sigmas are zero in eval mode.
struct Dynamics {
  double alpha = 0.1;
  Activation activation = Activation::ReLU;
  double preact_noise = 0;
  double postact_noise = 0;
};

}  // namespace ctrnn
