// BasicNetwork: argument checks, modes, keep state and the noise stream's position, over a
// backend that holds the parameters and computes (backend.hpp).
#include "ctrnn/network.hpp"

#include <cmath>
#include <limits>
#include <mutex>

#include "backend.hpp"
#include "constraints.hpp"
#include "ctrnn/error.hpp"
#include "double_network.hpp"
#include "initialize.hpp"
#include "log.hpp"
#include "memory_budget.hpp"
#include "tensor_checks.hpp"
#include "view_support.hpp"

namespace ctrnn {

namespace {

using detail::check_finite;
using detail::check_shape_with_ensemble;
using detail::StreamScope;
using detail::tensor_view;

template <class T>
std::vector<double> to_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// Dense row-major strides of a shape (sizes >= 0), in elements; a stride beyond int64 saturates
// (no array has it, so no given stride equals it).
Shape dense_strides(const Shape& shape) {
  Shape s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    if (__builtin_mul_overflow(s[d], shape[d], &s[d - 1])) s[d - 1] = std::numeric_limits<int64_t>::max();
  return s;
}

template <class T>
std::unique_ptr<detail::Backend<T>> make_backend(const Config& c, Device device, MathMode math) {
  constexpr bool is_float = std::is_same_v<T, float>;
  if (device == Device::Cuda && !is_float)
    throw InvalidArgument("device", "'cpu' or 'auto' for a double-precision network (the CUDA backend is float32)",
                          "'cuda'");
  // Auto: the CUDA backend where it can run, else the CPU with one line saying why (once per
  // process, like the line naming the GPU).
  std::string unusable;
  if constexpr (is_float) {
    if (device == Device::Auto) unusable = detail::cuda_unusable_reason();
    if (device == Device::Cuda || (device == Device::Auto && unusable.empty())) {
      auto b = detail::make_cuda_backend(c, math);
      if (device == Device::Auto) {
        static std::once_flag said;
        std::call_once(said, [&] { detail::log_line("ctrnn: device auto: using " + b->description()); });
      }
      return b;
    }
  }
  std::unique_ptr<detail::Backend<T>> b;
  if constexpr (is_float) b = detail::make_host_backend(c);
  else b = detail::make_cpu_backend<T>(c);
  if (device == Device::Auto && is_float) {
    static std::once_flag said;
    std::call_once(said, [&] { detail::log_line("ctrnn: device auto: " + unusable + "; using " + b->description()); });
  }
  return b;
}

// Refuses a config whose network would not fit in host RAM, before anything is allocated: the
// host copies of parameters and constraints (plasticity always, up to three more masks per
// weight), initialization's double-precision temporaries and, when the backend computes on the
// host, its parameters, gradients, two optimizer moments and masks. (A GPU backend checks its
// device memory itself.) Every size is an overflow-checked product.
template <class T>
void check_network_fits(const Config& c, bool backend_on_host) {
  const std::string value = "[" + std::to_string(c.dims[0]) + ", " + std::to_string(c.dims[1]) + ", " +
                            std::to_string(c.dims[2]) + "] and " + std::to_string(c.ensemble_size);
  const std::string parameter = "dims and ensemble_size";
  int64_t params = 0, weights = 0;
  for (int k = 0; k < kNumParamArrays; ++k) {
    const int64_t n = detail::checked_product(param_shape(k, c), parameter, value);
    params = detail::saturating_add(params, n);
    if (k < kBIn) weights = detail::saturating_add(weights, n);
  }
  const int64_t host_params = backend_on_host ? 5 : 1, host_weights = backend_on_host ? 8 : 4;
  int64_t values = detail::checked_product({params, host_params}, parameter, value);
  values = detail::saturating_add(values, detail::checked_product({weights, host_weights}, parameter, value));
  const int64_t bytes = detail::saturating_add(detail::checked_product({values, int64_t(sizeof(T))}, parameter, value),
                                               detail::checked_product({weights, 2 * int64_t(sizeof(double))}, parameter, value));
  detail::require_memory(parameter, value, bytes, detail::host_memory_available(), "host memory");
}

}  // namespace

template <class T>
BasicNetwork<T>::BasicNetwork(Config config, Device device, MathMode math) : config_(std::move(config)) {
  config_.validate();
  const bool on_gpu = std::is_same_v<T, float> &&
                      (device == Device::Cuda || (device == Device::Auto && detail::cuda_unusable_reason().empty()));
  check_network_fits<T>(config_, !on_gpu);
  constraints_ = build_constraints<T>(config_);
  params_ = initial_params<T>(config_, constraints_);
  backend_ = make_backend<T>(config_, device, math);
  backend_->set_constraints(constraints_);
  backend_->set_params(params_);
}

template <class T>
BasicNetwork<T>::~BasicNetwork() = default;
template <class T>
BasicNetwork<T>::BasicNetwork(BasicNetwork&&) noexcept = default;
template <class T>
BasicNetwork<T>& BasicNetwork<T>::operator=(BasicNetwork&&) noexcept = default;

template <class T>
Device BasicNetwork<T>::device() const {
  return backend_->device();
}

template <class T>
std::string BasicNetwork<T>::device_description() const {
  return backend_->description();
}

template <class T>
const Params<T>& BasicNetwork<T>::params() const {
  if (host_stale_) {
    backend_->get_params(params_);
    std::array<std::vector<T>, 3> sparsity;
    backend_->get_sparsity(sparsity);
    for (int l = 0; l < 3; ++l) constraints_[l].sparsity = std::move(sparsity[l]);
    host_stale_ = false;
  }
  return params_;
}

template <class T>
const std::array<LayerConstraints<T>, 3>& BasicNetwork<T>::constraints() const {
  params();  // refreshes the masks too
  return constraints_;
}

template <class T>
void BasicNetwork<T>::upload_params() {
  backend_->set_params(params_);
}

template <class T>
Dynamics BasicNetwork<T>::dynamics() const {
  return config_.dynamics(mode_ == Mode::Train);
}

template <class T>
detail::Located<T> BasicNetwork<T>::checked(const View& v, const std::string& name, const Shape* shape) const {
  const Location where = backend_->location();
  if (!v.location.is_host() && v.location != where)
    throw InvalidArgument(name,
                          where.is_host() ? "host memory (the network computes on the CPU)"
                                          : "host memory or " + to_string(where) + " (where the network computes)",
                          to_string(v.location));
  if (v.dtype != dtype_of<T>()) throw InvalidArgument(name, "dtype " + to_string(dtype_of<T>()), to_string(v.dtype));
  int64_t elements = 1;
  for (int64_t d : v.shape)
    if (d < 0 || __builtin_mul_overflow(elements, d, &elements))
      throw InvalidArgument(name, "sizes >= 0 whose product fits in 64 bits", "shape " + shape_to_string(v.shape));
  if (!v.strides.empty() && elements != 0) {  // an empty array reads nothing (numpy gives it zero strides)
    const Shape dense = dense_strides(v.shape);
    bool ok = v.strides.size() == v.shape.size();
    for (size_t d = 0; ok && d < dense.size(); ++d) ok = v.shape[d] == 1 || v.strides[d] == dense[d];
    if (!ok)
      throw InvalidArgument(name, "a dense row-major array (strides " + shape_to_string(dense) + ")",
                            "strides " + shape_to_string(v.strides) + " for shape " + shape_to_string(v.shape));
  }
  if (!v.data && elements != 0)
    throw InvalidArgument(name, "data for " + std::to_string(elements) + " elements", "a null pointer");
  if (shape && v.shape != *shape)
    throw InvalidArgument(name, "shape " + shape_to_string(*shape), shape_to_string(v.shape));
  return {static_cast<T*>(v.data), v.location.is_host() ? detail::Memory::Host : detail::Memory::Device};
}

template <class T>
Shape BasicNetwork<T>::output_shape(int64_t steps, int64_t batch) const {
  return {config_.ensemble_size, steps, batch, config_.dims[2]};
}

template <class T>
Shape BasicNetwork<T>::rates_shape(int64_t steps, int64_t batch) const {
  return {config_.ensemble_size, steps, batch, config_.dims[1]};
}

template <class T>
Shape BasicNetwork<T>::input_shape() const {
  if (last_u_per_network_) return {config_.ensemble_size, last_steps_, last_batch_, config_.dims[0]};
  return {last_steps_, last_batch_, config_.dims[0]};
}

template <class T>
detail::ForwardArgs<T> BasicNetwork<T>::forward_args(const View& view) const {
  const int64_t E = config_.ensemble_size, I = config_.dims[0];
  const detail::Located<T> u = checked(view, "inputs");
  const Shape& shape = view.shape;
  const int64_t rank = int64_t(shape.size());
  if (rank != 3 && rank != 4) throw InvalidArgument("inputs", "shape (T, B, I) or (E, T, B, I)", shape_to_string(shape));
  const int64_t steps = shape[rank - 3], B = shape[rank - 2];
  const bool per_network = check_shape_with_ensemble(shape, {steps, B, I}, E, "inputs");
  if (steps <= 0 || B <= 0) throw InvalidArgument("inputs", "T >= 1 and B >= 1", shape_to_string(shape));
  if (!u.on_device()) check_finite(u.ptr, element_count(shape), "inputs");
  const bool keep = config_.init_state == InitState::Keep;
  if (keep && keep_batch_ != 0 && keep_batch_ != B)
    throw InvalidArgument("inputs", "batch size " + std::to_string(keep_batch_) +
                                        " in keep mode (the carried state's; call reset_state() to change it)",
                          std::to_string(B));
  detail::ForwardArgs<T> a;
  a.u = {u.ptr, u.memory};
  a.u_per_network = per_network;
  a.steps = steps;
  a.batch = B;
  a.initial = config_.init_state == InitState::Learn ? detail::InitialState::H0
              : keep && keep_batch_ != 0              ? detail::InitialState::Kept
                                                      : detail::InitialState::Zero;
  a.dynamics = dynamics();
  a.seed = config_.seed;
  a.call = forward_calls_;
  a.keep_final_state = keep;
  return a;
}

template <class T>
void BasicNetwork<T>::forward_done(const detail::ForwardArgs<T>& a) {
  if (a.keep_final_state) keep_batch_ = a.batch;
  last_steps_ = a.steps;
  last_batch_ = a.batch;
  last_u_per_network_ = a.u_per_network;
  ++forward_calls_;
}

template <class T>
void BasicNetwork<T>::forward(const View& u, const View* y, const View* r, Stream stream) {
  detail::ForwardArgs<T> a = forward_args(u);
  const Shape y_shape = output_shape(a.steps, a.batch), r_shape = rates_shape(a.steps, a.batch);
  const detail::Located<T> y_out = y ? checked(*y, "y", &y_shape) : detail::Located<T>();
  const detail::Located<T> r_out = r ? checked(*r, "r", &r_shape) : detail::Located<T>();
  StreamScope<T> scope(*backend_, stream);
  backend_->forward(a);
  forward_done(a);
  if (y_out || r_out) backend_->read_forward(y_out, r_out);
}

template <class T>
ForwardResult<T> BasicNetwork<T>::forward(const Tensor<T>& u, ForwardCopy copy) {
  forward(tensor_view(u, "inputs"));
  ForwardResult<T> out;
  if (copy != ForwardCopy::Nothing) out.y = last_outputs();
  if (copy == ForwardCopy::OutputsAndRates) out.r = last_rates();
  return out;
}

template <class T>
Tensor<T> BasicNetwork<T>::last_outputs() const {
  if (last_steps_ == 0) throw StateError("ctrnn: last_outputs() needs a forward() first");
  Tensor<T> y(output_shape(last_steps_, last_batch_));
  backend_->read_forward(y.ptr(), nullptr);
  return y;
}

template <class T>
Tensor<T> BasicNetwork<T>::last_rates() const {
  if (last_steps_ == 0) throw StateError("ctrnn: last_rates() needs a forward() first");
  Tensor<T> r(rates_shape(last_steps_, last_batch_));
  backend_->read_forward(nullptr, r.ptr());
  return r;
}

template <class T>
void BasicNetwork<T>::backward(const View& dy, const View* dr, const std::array<const View*, kNumParamArrays>& gradients,
                               Stream stream, const View* du) {
  if (last_steps_ == 0) throw StateError("ctrnn: backward() needs a forward() first");
  const Shape y_shape = output_shape(last_steps_, last_batch_), r_shape = rates_shape(last_steps_, last_batch_);
  const detail::Located<const T> gy = checked(dy, "dy", &y_shape);
  if (!gy.on_device()) check_finite(gy.ptr, element_count(y_shape), "dy");
  detail::Located<const T> gr;
  if (dr) {
    gr = checked(*dr, "dr", &r_shape);
    if (!gr.on_device()) check_finite(gr.ptr, element_count(r_shape), "dr");
  }
  std::array<detail::Located<T>, kNumParamArrays> out;
  for (int k = 0; k < kNumParamArrays; ++k) {
    const Shape shape = param_shape(k, config_);
    if (gradients[k]) out[k] = checked(*gradients[k], std::string("gradient ") + kParamNames[k], &shape);
  }
  const Shape u_shape = input_shape();
  const detail::Located<T> du_out = du ? checked(*du, "du", &u_shape) : detail::Located<T>();
  StreamScope<T> scope(*backend_, stream);
  backend_->backward(gy, gr, du_out);
  for (int k = 0; k < kNumParamArrays; ++k)
    if (out[k]) backend_->read_gradient(k, out[k]);
}

template <class T>
Gradients<T> BasicNetwork<T>::backward(const Tensor<T>& dy, const Tensor<T>* dr, Tensor<T>* du) {
  const View gy = tensor_view(dy, "dy");
  const View gr = dr ? tensor_view(*dr, "dr") : View{};
  Tensor<T> du_values(du ? input_shape() : Shape{0});
  const View du_view = tensor_view(du_values, "du");
  backward(gy, dr ? &gr : nullptr, {}, Stream{}, du ? &du_view : nullptr);
  if (du) *du = std::move(du_values);
  return gradients();
}

template <class T>
Gradients<T> BasicNetwork<T>::gradients() const {
  Gradients<T> g;
  backend_->read_gradients(g);
  return g;
}

template <class T>
void BasicNetwork<T>::apply_plasticity(Gradients<T>& g) const {
  const auto& c = constraints();
  for (int l = 0; l < 3; ++l) {
    std::vector<T>& w = g.weight(static_cast<Layer>(l));
    const std::vector<T>& scale = c[l].plasticity;
    if (w.size() != scale.size()) throw InvalidArgument("gradients", "the network's shapes", "other shapes");
    for (size_t i = 0; i < w.size(); ++i) w[i] *= scale[i];
  }
}

template <class T>
std::array<LayerView<T>, 3> BasicNetwork<T>::layers() const {
  const Params<T>& p = params();
  std::array<LayerView<T>, 3> out;
  for (int l = 0; l < 3; ++l) {
    const Layer layer = static_cast<Layer>(l);
    const LayerConstraints<T>& c = constraints_[l];
    LayerView<T>& v = out[l];
    v.layer = layer;
    v.pre = c.pre, v.post = c.post;
    const Shape ws = param_shape(kWIn + l, config_);
    v.weight = Tensor<T>(ws, p.weight(layer));
    v.bias = Tensor<T>(param_shape(kBIn + l, config_), p.bias(layer));
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
  const LayerConstraints<T>& c = constraints()[int(layer)];
  const std::string name = "weight of the " + to_string(layer) + " layer";
  check_shape_with_ensemble(weight, {c.pre, c.post}, config_.ensemble_size, name);
  check_finite(weight, name);
  std::vector<T> w = broadcast_to_ensemble<T>(to_double(weight.data), config_.ensemble_size, c.pre * c.post);
  project_weights(w, c);
  params_.weight(layer) = std::move(w);
  upload_params();
}

template <class T>
void BasicNetwork<T>::set_bias(Layer layer, const Tensor<T>& bias) {
  const LayerConstraints<T>& c = constraints()[int(layer)];
  const std::string name = "bias of the " + to_string(layer) + " layer";
  if (!bias_learnable(layer))
    throw InvalidArgument(name, "a layer whose config biases[" + std::to_string(int(layer)) + "] is not None", "None");
  check_shape_with_ensemble(bias, {c.post}, config_.ensemble_size, name);
  check_finite(bias, name);
  params_.bias(layer) = broadcast_to_ensemble<T>(to_double(bias.data), config_.ensemble_size, c.post);
  upload_params();
}

template <class T>
void BasicNetwork<T>::set_initial_state(const Tensor<T>& h0) {
  if (!h0_learnable())
    throw InvalidArgument("init_state", "'learn' to set the initial state h0", "'" + to_string(config_.init_state) + "'");
  check_shape_with_ensemble(h0, {config_.dims[1]}, config_.ensemble_size, "h0");
  check_finite(h0, "h0");
  params();
  params_.h0 = broadcast_to_ensemble<T>(to_double(h0.data), config_.ensemble_size, config_.dims[1]);
  upload_params();
}

template <class T>
void BasicNetwork<T>::set_params(const std::array<const View*, kNumParamArrays>& params, Stream stream) {
  std::array<detail::Located<const T>, kNumParamArrays> src;
  for (int k = 0; k < kNumParamArrays; ++k) {
    if (!params[k]) continue;
    const std::string name = std::string("parameter ") + kParamNames[k];
    if (!param_learned(config_, k))
      throw InvalidArgument(name,
                            k == kH0     ? "init_state 'learn' to write h0"
                            : k == kAlpha ? "learn_tau true to write alpha"
                                          : "a learned bias (its biases entry is not None)",
                            k == kH0 ? "'" + to_string(config_.init_state) + "'" : k == kAlpha ? "false" : "None");
    const Shape shape = param_shape(k, config_);
    src[k] = checked(*params[k], name, &shape);
    if (!src[k].on_device()) check_finite(src[k].ptr, element_count(shape), name);
  }
  StreamScope<T> scope(*backend_, stream);
  backend_->write_params(src);
  host_stale_ = true;
}

template <class T>
void BasicNetwork<T>::reset_state() {
  keep_batch_ = 0;
  backend_->set_kept_state({}, 0);
}

template <class T>
Tensor<T> BasicNetwork<T>::kept_state() const {
  if (keep_batch_ == 0) return {};
  Tensor<T> v({config_.ensemble_size, keep_batch_, config_.dims[1]});
  backend_->get_kept_state(v.data);
  return v;
}

template <class T>
void BasicNetwork<T>::set_kept_state(const Tensor<T>& v) {
  if (config_.init_state != InitState::Keep)
    throw InvalidArgument("init_state", "'keep' to set the carried state", "'" + to_string(config_.init_state) + "'");
  if (v.numel() == 0) return reset_state();
  if (v.rank() != 3 || v.shape[0] != config_.ensemble_size || v.shape[2] != config_.dims[1] || v.shape[1] <= 0)
    throw InvalidArgument("kept state", "shape (E, B, H) = (" + std::to_string(config_.ensemble_size) + ", B, " +
                                            std::to_string(config_.dims[1]) + ")",
                          shape_to_string(v.shape));
  check_finite(v, "kept state");
  backend_->set_kept_state(v.data, v.shape[1]);
  keep_batch_ = v.shape[1];
}

template class BasicNetwork<float>;
template class BasicNetwork<double>;

}  // namespace ctrnn
