#pragma once
// The learned state of E networks, flat and row-major, every array with a leading E axis: the
// one statement of which arrays there are, their shapes and which of them are learned.
#include <cstdint>
#include <vector>

#include "ctrnn/config.hpp"

namespace ctrnn {

// The eight arrays, in the order of Params::arrays() and kParamNames (alpha last: the arrays
// before it kept their indices when it was added).
enum ParamArray : int { kWIn = 0, kWHid, kWOut, kBIn, kBHid, kBOut, kH0, kAlpha, kNumParamArrays };

// Names of Params::arrays(), in the same order.
inline const char* const kParamNames[kNumParamArrays] = {"w_in", "w_hid", "w_out", "b_in",
                                                         "b_hid", "b_out", "h0",    "alpha"};

// Shape of array k for E networks of dims [I, H, O]: weights (E, pre, post), biases (E, post),
// h0 and alpha (E, H). Config::layer_shape is the (pre, post) of these.
inline Shape param_shape(int k, int64_t E, int64_t I, int64_t H, int64_t O) {
  const int64_t pre[3] = {I, H, H}, post[3] = {H, H, O};
  if (k < kBIn) return {E, pre[k], post[k]};
  if (k < kH0) return {E, post[k - kBIn]};
  return {E, H};
}
inline Shape param_shape(int k, const Config& c) {
  return param_shape(k, c.ensemble_size, c.dims[0], c.dims[1], c.dims[2]);
}

// Whether array k is learned: the weights always, a bias unless the config declares it None,
// h0 in learn mode, alpha with learn_tau. The others keep their values and have zero gradients.
inline bool param_learned(const Config& c, int k) {
  if (k < kBIn) return true;
  if (k < kH0) return c.biases[k - kBIn].kind != InitSpec::Kind::None;
  if (k == kH0) return c.init_state == InitState::Learn;
  return c.learn_tau;
}

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
  // (E, H) dt / tau of each network's hidden neurons: the one alpha every path computes with.
  // Config::alpha() at construction; changes only with learn_tau, within [Config::alpha_min(), 1].
  std::vector<T> alpha;

  static Params zeros(int64_t e, int64_t i, int64_t h, int64_t o) {
    Params p;
    p.E = e, p.I = i, p.H = h, p.O = o;
    const auto a = p.arrays();
    for (int k = 0; k < kNumParamArrays; ++k) a[k]->assign(size_t(element_count(param_shape(k, e, i, h, o))), T(0));
    return p;
  }
  Shape shape(int k) const { return param_shape(k, E, I, H, O); }

  std::vector<T>& weight(Layer l) { return l == Layer::Input ? w_in : l == Layer::Hidden ? w_hid : w_out; }
  const std::vector<T>& weight(Layer l) const {
    return l == Layer::Input ? w_in : l == Layer::Hidden ? w_hid : w_out;
  }
  std::vector<T>& bias(Layer l) { return l == Layer::Input ? b_in : l == Layer::Hidden ? b_hid : b_out; }
  const std::vector<T>& bias(Layer l) const {
    return l == Layer::Input ? b_in : l == Layer::Hidden ? b_hid : b_out;
  }

  // Every array in ParamArray order: for code that treats parameters uniformly (optimizers,
  // gradient checks, checkpoints).
  std::vector<std::vector<T>*> arrays() { return {&w_in, &w_hid, &w_out, &b_in, &b_hid, &b_out, &h0, &alpha}; }
  std::vector<const std::vector<T>*> arrays() const {
    return {&w_in, &w_hid, &w_out, &b_in, &b_hid, &b_out, &h0, &alpha};
  }
};

// dL/d(parameter), laid out like the parameters.
template <class T>
using Gradients = Params<T>;

// The optimizer's moments, laid out like the parameters.
template <class T>
struct OptimizerState {
  Params<T> m;  // Adam first moment / SGD momentum buffer
  Params<T> v;  // Adam second moment (unused by SGD)
};

// What the time step needs beyond the parameters (alpha is one of them: Params::alpha), per
// network (Config::dynamics). Noise sigmas are zero in eval mode.
struct Dynamics {
  Activation activation = Activation::ReLU;
  std::vector<double> preact_noise;   // (E)
  std::vector<double> postact_noise;  // (E)

  int64_t networks() const { return int64_t(preact_noise.size()); }
  bool noisy() const {
    for (size_t e = 0; e < preact_noise.size(); ++e)
      if (preact_noise[e] > 0 || postact_noise[e] > 0) return true;
    return false;
  }
};

}  // namespace ctrnn
