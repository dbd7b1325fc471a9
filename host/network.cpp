// BasicNetwork on the CPU reference: argument checks, state (modes, keep, noise stream) and
// parameter access. The arithmetic lives in reference/.
#include "ctrnn/network.hpp"

#include <cmath>

#include "ctrnn/error.hpp"
#include "ctrnn/philox.hpp"
#include "initialize.hpp"
#include "reference/ctrnn_reference.hpp"

namespace ctrnn {

template <class T>
struct BasicNetwork<T>::LastForward {
  Tensor<T> u;
  bool u_per_network = false;
  Dynamics dynamics;
  reference::Trace<T> trace;
};

namespace {

template <class T>
void check_finite(const Tensor<T>& t, const std::string& parameter) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data[i]))
      throw InvalidArgument(parameter, "finite values", std::to_string(t.data[i]) + " at flat index " + std::to_string(i));
}

// Accepts `shape` or `shape` with a leading E axis; returns true for the per-network form.
template <class T>
bool check_shape_with_ensemble(const Tensor<T>& t, const Shape& shape, int64_t E, const std::string& parameter) {
  Shape per_network = shape;
  per_network.insert(per_network.begin(), E);
  if (Tensor<T>::count(t.shape) != t.numel())
    throw InvalidArgument(parameter, "a tensor whose data matches its shape", shape_to_string(t.shape));
  if (t.shape == per_network) return true;
  if (t.shape == shape) return false;
  throw InvalidArgument(parameter, "shape " + shape_to_string(shape) + " or " + shape_to_string(per_network),
                        shape_to_string(t.shape));
}

template <class T>
std::vector<double> to_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace

template <class T>
BasicNetwork<T>::BasicNetwork(Config config) : config_(std::move(config)) {
  config_.validate();
  constraints_ = build_constraints<T>(config_);
  params_ = initial_params<T>(config_, constraints_);
}

template <class T>
Dynamics BasicNetwork<T>::dynamics() const {
  Dynamics d;
  d.alpha = config_.alpha();
  d.activation = config_.activation;
  if (mode_ == Mode::Train) {
    d.preact_noise = config_.preact_noise;
    d.postact_noise = config_.postact_noise;
  }
  return d;
}

template <class T>
std::vector<T> BasicNetwork<T>::initial_membrane_potential(int64_t B) const {
  const int64_t E = params_.E, H = params_.H;
  std::vector<T> v0(E * B * H, T(0));
  if (config_.init_state == InitState::Learn) {
    for (int64_t e = 0; e < E; ++e)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) v0[(e * B + b) * H + h] = params_.h0[e * H + h];
  } else if (config_.init_state == InitState::Keep && keep_batch_ != 0) {
    v0 = keep_v_;
  }
  return v0;
}

template <class T>
std::vector<T> BasicNetwork<T>::draw_noise(bool preact, int64_t T_, int64_t B) const {
  const int64_t E = params_.E, H = params_.H;
  std::vector<T> eps(E * T_ * B * H);
  const RandomPurpose purpose = preact ? RandomPurpose::PreactNoise : RandomPurpose::PostactNoise;
  for (int64_t e = 0; e < E; ++e)
    for (int64_t t = 0; t < T_; ++t) {
      // One stream per (network, forward call, step); element = b * H + h.
      const RandomStream rng(config_.seed, purpose, uint32_t(e), uint32_t(t), uint32_t(forward_calls_));
      T* out = &eps[((e * T_ + t) * B) * H];
      for (int64_t i = 0; i < B * H; ++i) out[i] = T(rng.normal(uint32_t(i)));
    }
  return eps;
}

template <class T>
ForwardResult<T> BasicNetwork<T>::forward(const Tensor<T>& u) {
  const int64_t E = params_.E, I = params_.I, H = params_.H, O = params_.O;
  if (u.rank() != 3 && u.rank() != 4)
    throw InvalidArgument("inputs", "shape (T, B, I) or (E, T, B, I)", shape_to_string(u.shape));
  const int64_t T_ = u.shape[u.rank() - 3], B = u.shape[u.rank() - 2];
  const bool per_network = check_shape_with_ensemble(u, {T_, B, I}, E, "inputs");
  if (T_ <= 0 || B <= 0) throw InvalidArgument("inputs", "T >= 1 and B >= 1", shape_to_string(u.shape));
  check_finite(u, "inputs");
  if (config_.init_state == InitState::Keep && keep_batch_ != 0 && keep_batch_ != B)
    throw InvalidArgument("inputs", "batch size " + std::to_string(keep_batch_) +
                                        " in keep mode (the carried state's; call reset_state() to change it)",
                          std::to_string(B));

  auto last = std::make_shared<LastForward>();
  last->u = u;
  last->u_per_network = per_network;
  last->dynamics = dynamics();
  const Dynamics& dyn = last->dynamics;
  const std::vector<T> v0 = initial_membrane_potential(B);
  std::vector<T> eps_pre, eps_post;
  if (dyn.preact_noise > 0) eps_pre = draw_noise(true, T_, B);
  if (dyn.postact_noise > 0) eps_post = draw_noise(false, T_, B);
  last->trace = reference::forward(params_, dyn, u.ptr(), per_network, T_, B, v0.data(),
                                   eps_pre.empty() ? nullptr : eps_pre.data(),
                                   eps_post.empty() ? nullptr : eps_post.data());

  const reference::Trace<T>& tr = last->trace;
  ForwardResult<T> out{Tensor<T>({E, T_, B, O}), Tensor<T>({E, T_, B, H})};
  out.y.data = tr.y;
  for (int64_t e = 0; e < E; ++e)
    std::copy(tr.r_at(e, 1), tr.r_at(e, 1) + T_ * B * H, &out.r.data[e * T_ * B * H]);
  if (config_.init_state == InitState::Keep) {
    keep_v_.resize(E * B * H);
    for (int64_t e = 0; e < E; ++e) std::copy(tr.v_at(e, T_), tr.v_at(e, T_) + B * H, &keep_v_[e * B * H]);
    keep_batch_ = B;
  }
  ++forward_calls_;
  last_ = std::move(last);
  return out;
}

template <class T>
Gradients<T> BasicNetwork<T>::backward(const Tensor<T>& dy, const Tensor<T>* dr) {
  if (!last_) throw StateError("ctrnn: backward() needs a forward() first");
  const LastForward& last = *last_;
  const reference::Trace<T>& tr = last.trace;
  const int64_t E = params_.E, T_ = tr.T, B = tr.B;
  const Shape y_shape{E, T_, B, params_.O}, r_shape{E, T_, B, params_.H};
  if (dy.shape != y_shape) throw InvalidArgument("dy", "shape " + shape_to_string(y_shape) + " (that of y)", shape_to_string(dy.shape));
  check_finite(dy, "dy");
  if (dr) {
    if (dr->shape != r_shape)
      throw InvalidArgument("dr", "shape " + shape_to_string(r_shape) + " (that of r)", shape_to_string(dr->shape));
    check_finite(*dr, "dr");
  }
  Gradients<T> g = reference::backward(params_, last.dynamics, last.u.ptr(), last.u_per_network, tr, dy.ptr(),
                                       dr ? dr->ptr() : nullptr);
  for (int l = 0; l < 3; ++l)
    if (!bias_learnable(static_cast<Layer>(l))) std::fill(g.bias(static_cast<Layer>(l)).begin(), g.bias(static_cast<Layer>(l)).end(), T(0));
  if (!h0_learnable()) std::fill(g.h0.begin(), g.h0.end(), T(0));
  return g;
}

template <class T>
void BasicNetwork<T>::apply_plasticity(Gradients<T>& g) const {
  for (int l = 0; l < 3; ++l) {
    std::vector<T>& w = g.weight(static_cast<Layer>(l));
    const std::vector<T>& scale = constraints_[l].plasticity;
    if (w.size() != scale.size()) throw InvalidArgument("gradients", "the network's shapes", "other shapes");
    for (size_t i = 0; i < w.size(); ++i) w[i] *= scale[i];
  }
}

template <class T>
std::array<LayerView<T>, 3> BasicNetwork<T>::layers() const {
  std::array<LayerView<T>, 3> out;
  const int64_t E = params_.E;
  for (int l = 0; l < 3; ++l) {
    const Layer layer = static_cast<Layer>(l);
    const LayerConstraints<T>& c = constraints_[l];
    LayerView<T>& v = out[l];
    v.layer = layer;
    v.pre = c.pre, v.post = c.post;
    const Shape ws{E, c.pre, c.post};
    v.weight = Tensor<T>(ws, params_.weight(layer));
    v.bias = Tensor<T>({E, c.post}, params_.bias(layer));
    v.bias_learnable = bias_learnable(layer);
    if (c.has_sparsity()) v.sparsity_mask = Tensor<T>(ws, c.sparsity);
    if (c.has_ei()) v.ei_mask = Tensor<T>(ws, c.ei);
    if (c.has_growth()) v.growth_probability = Tensor<T>(ws, c.growth);
    v.plasticity = Tensor<T>(ws, c.plasticity);
  }
  return out;
}

template <class T>
void BasicNetwork<T>::set_weight(Layer layer, const Tensor<T>& weight) {
  const LayerConstraints<T>& c = constraints_[int(layer)];
  const std::string name = "weight of the " + to_string(layer) + " layer";
  check_shape_with_ensemble(weight, {c.pre, c.post}, params_.E, name);
  check_finite(weight, name);
  std::vector<T> w = broadcast_to_ensemble<T>(to_double(weight.data), params_.E, c.pre * c.post);
  project_weights(w, c);
  params_.weight(layer) = std::move(w);
}

template <class T>
void BasicNetwork<T>::set_bias(Layer layer, const Tensor<T>& bias) {
  const LayerConstraints<T>& c = constraints_[int(layer)];
  const std::string name = "bias of the " + to_string(layer) + " layer";
  if (!bias_learnable(layer))
    throw InvalidArgument(name, "a layer whose config biases[" + std::to_string(int(layer)) + "] is not None", "None");
  check_shape_with_ensemble(bias, {c.post}, params_.E, name);
  check_finite(bias, name);
  params_.bias(layer) = broadcast_to_ensemble<T>(to_double(bias.data), params_.E, c.post);
}

template <class T>
void BasicNetwork<T>::set_initial_state(const Tensor<T>& h0) {
  if (!h0_learnable())
    throw InvalidArgument("init_state", "'learn' to set the initial state h0", "'" + to_string(config_.init_state) + "'");
  check_shape_with_ensemble(h0, {params_.H}, params_.E, "h0");
  check_finite(h0, "h0");
  params_.h0 = broadcast_to_ensemble<T>(to_double(h0.data), params_.E, params_.H);
}

template <class T>
void BasicNetwork<T>::reset_state() {
  keep_batch_ = 0;
  keep_v_.clear();
}

template class BasicNetwork<float>;
template class BasicNetwork<double>;

}  // namespace ctrnn
