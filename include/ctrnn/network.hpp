#pragma once
// A CTRNN ensemble: E networks of the same dims, each with its own weights, masks and noise,
// run together. Network (BasicNetwork<float>) is the instantiation the library provides.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>

#include "ctrnn/config.hpp"
#include "ctrnn/constraints.hpp"
#include "ctrnn/device.hpp"
#include "ctrnn/params.hpp"
#include "ctrnn/tensor.hpp"
#include "ctrnn/view.hpp"

namespace ctrnn {

namespace detail {
template <class T>
class Backend;
template <class T>
struct ForwardArgs;
template <class T>
struct Located;
}  // namespace detail
template <class T>
class BasicTrainer;

template <class T>
struct ForwardResult {
  Tensor<T> y;  // (E, T, B, O) outputs; empty unless copied (ForwardCopy)
  Tensor<T> r;  // (E, T, B, H) firing rates r_1..r_T; empty unless copied
};

// What forward() copies to the host. The default, both y and r, is what a caller of forward(u)
// expects; on the GPU the copy of r (E T B H values) can cost more than the forward itself, so a
// caller that needs only y, or neither (benchmarks, or a forward whose outputs are read later),
// says so. What is not copied stays where the backend computed it: last_outputs(),
// last_rates() and backward() still see it.
enum class ForwardCopy { OutputsAndRates, Outputs, Nothing };

// One layer as layers() reports it. Arrays carry the leading E axis.
template <class T>
struct LayerView {
  Layer layer = Layer::Input;
  int64_t pre = 0, post = 0;
  Tensor<T> weight;  // (E, pre, post), after projection
  Tensor<T> bias;    // (E, post)
  bool weight_learnable = true;
  bool bias_learnable = false;
  std::optional<Tensor<T>> sparsity_mask;       // 0/1
  std::optional<Tensor<T>> ei_mask;             // +1/-1
  Tensor<T> plasticity;                         // normalized scales, ones without a mask
  std::optional<Tensor<T>> growth_probability;  // where a sparsity mask is 0
};

template <class T>
class BasicNetwork {
 public:
  // Validates the whole config (throws InvalidArgument) and draws the initial weights. Device
  // auto takes the GPU when one is present (float networks only) and says which in one line to
  // the log sink (ctrnn/log.hpp); cuda without a device throws StateError.
  explicit BasicNetwork(Config config, Device device = Device::Auto, MathMode math = MathMode::FP32);
  ~BasicNetwork();
  BasicNetwork(BasicNetwork&&) noexcept;
  BasicNetwork& operator=(BasicNetwork&&) noexcept;

  Device device() const;            // Cpu or Cuda: where it computes
  std::string device_description() const;

  const Config& config() const { return config_; }
  int64_t ensemble_size() const { return config_.ensemble_size; }

  // Training mode (the default) adds noise; eval mode adds none. Constraints always hold.
  void train() { mode_ = Mode::Train; }
  void eval() { mode_ = Mode::Eval; }
  Mode mode() const { return mode_; }

  // u: (T, B, I) shared by all networks, or (E, T, B, I). Keeps what backward() needs.
  ForwardResult<T> forward(const Tensor<T>& u, ForwardCopy copy = ForwardCopy::OutputsAndRates);

  // The same with views (ctrnn/view.hpp), on the host or on the network's CUDA device: u is read
  // in place, y (E, T, B, O) and r (E, T, B, H) are written where given (null: not copied;
  // last_outputs() and last_rates() read them later). On a GPU the call returns without waiting
  // for the device: its work is ordered on `stream` (see Stream). A view of another device, dtype,
  // shape, or strides, or null data with elements, is refused (InvalidArgument naming it: "inputs",
  // "y", "r") before anything changes. Values on a GPU are not checked (that would need a host
  // round trip): NaN or Inf there propagates into the results.
  void forward(const View& u, const View* y = nullptr, const View* r = nullptr, Stream stream = {});

  // The outputs y (E, T, B, O) and rates r (E, T, B, H) of the last forward, or of the trainer's
  // last step; change no state (logging during training reads them without disturbing the noise
  // stream).
  Tensor<T> last_outputs() const;
  Tensor<T> last_rates() const;
  // The shape of the last forward's u, (T, B, I) or (E, T, B, I): that of backward()'s du
  // ((0, 0, I) before any forward).
  Shape input_shape() const;

  // dy: (E, T, B, O) = dL/dy of the last forward; dr: optional (E, T, B, H) = direct dL/dr.
  // Returns dL/d(parameter) for all parameters; those that are not learned (biases given as
  // None, h0 outside learn mode) are zero. Gradients are with respect to the projected weights,
  // as nn4n's autograd reports them. du, when given, receives dL/du shaped as the last forward's
  // u: (T, B, I) summed over the networks for a shared u, (E, T, B, I) for a per-network u.
  Gradients<T> backward(const Tensor<T>& dy, const Tensor<T>* dr = nullptr, Tensor<T>* du = nullptr);

  // The same with views: dy (E, T, B, O) and optional dr (E, T, B, H) read in place; the gradient
  // of parameter k (ParamArray order, shape param_shape(k, config())) written into gradients[k]
  // where that is not null, and dL/du into du when given (shaped as the last forward's u).
  // gradients() reads all of them to the host afterwards. Views are checked as forward()'s.
  void backward(const View& dy, const View* dr = nullptr, const std::array<const View*, kNumParamArrays>& gradients = {},
                Stream stream = {}, const View* du = nullptr);
  // The gradients of the last backward (or training step) on the host.
  Gradients<T> gradients() const;

  // Scales each weight gradient by its plasticity, exactly as nn4n's apply_plasticity() does
  // (under plain SGD this equals the per-synapse learning rate the trainer applies).
  void apply_plasticity(Gradients<T>& g) const;

  std::array<LayerView<T>, 3> layers() const;
  // weight: (pre, post) for all networks or (E, pre, post); the constraints are re-applied.
  void set_weight(Layer layer, const Tensor<T>& weight);
  // bias: (post) or (E, post). Setting a bias the config declared None is an error.
  void set_bias(Layer layer, const Tensor<T>& bias);
  // h0: (H) or (E, H); learn mode only.
  void set_initial_state(const Tensor<T>& h0);
  // Writes parameter arrays from views (on the host or the network's CUDA device; a device
  // array is copied on the device, ordered on `stream`): params[k], where not null, holds array
  // k (ParamArray order, shape param_shape(k, config())); the weights written are projected
  // onto the constraints (alpha clamped into [Config::alpha_min(), 1]). Only learned arrays may
  // be written (a bias declared None, h0 outside learn mode or alpha without learn_tau is
  // refused). Views are checked as forward()'s, all before any is written.
  void set_params(const std::array<const View*, kNumParamArrays>& params, Stream stream = {});
  // keep mode: forget the carried state; the next forward starts from zeros with any batch size.
  void reset_state();

  // The facts nn4n's print_layers() prints, plus E/I counts and plasticity levels.
  void print_layers(std::ostream& os) const;

  // keep mode: the carried v_T, (E, B, H), or an empty tensor when none; set it to resume.
  Tensor<T> kept_state() const;
  void set_kept_state(const Tensor<T>& v);

  const Params<T>& params() const;  // a host copy, refreshed after training steps
  const std::array<LayerConstraints<T>, 3>& constraints() const;
  bool bias_learnable(Layer l) const { return param_learned(config_, kBIn + int(l)); }
  bool h0_learnable() const { return param_learned(config_, kH0); }
  Dynamics dynamics() const;  // the activation and the noise of the current mode (alpha: params())
  // The noise stream's position: forward call k draws the noise addressed by k. Restoring it
  // (checkpoints) or holding it fixed (gradient checks) replays the same noise.
  uint64_t forward_calls() const { return forward_calls_; }
  void set_forward_calls(uint64_t calls) { forward_calls_ = calls; }

 private:
  friend class BasicTrainer<T>;
  // Checks u and builds the backend's forward arguments; forward_done() records a forward that
  // ran (the trainer runs it inside a training step).
  detail::ForwardArgs<T> forward_args(const View& u) const;
  void forward_done(const detail::ForwardArgs<T>& a);
  // Refuses a view that is not T, dense, non-null, on the host or the backend's device, and of
  // `shape` (when given); returns its data and where it is.
  detail::Located<T> checked(const View& v, const std::string& name, const Shape* shape = nullptr) const;
  // The shape of y (E, T, B, O) and r (E, T, B, H) of a forward over `steps` x `batch`.
  Shape output_shape(int64_t steps, int64_t batch) const;
  Shape rates_shape(int64_t steps, int64_t batch) const;
  void upload_params();  // after a host-side change of params_

  Config config_;
  Mode mode_ = Mode::Train;
  std::unique_ptr<detail::Backend<T>> backend_;
  mutable Params<T> params_;  // host copy
  mutable std::array<LayerConstraints<T>, 3> constraints_;
  mutable bool host_stale_ = false;  // the backend changed params or masks since the last copy
  uint64_t forward_calls_ = 0;       // addresses each forward's noise draws
  int64_t keep_batch_ = 0;           // keep mode: batch size of the carried state (0: none yet)
  int64_t last_steps_ = 0, last_batch_ = 0;  // shape of the last forward (0: none yet)
  bool last_u_per_network_ = false;           // whether the last forward's u was (E, T, B, I)
};

using Network = BasicNetwork<float>;
// The double-precision network: the CPU reference in double (gradient checks, torch's float64).
using DoubleNetwork = BasicNetwork<double>;

extern template class BasicNetwork<float>;
extern template class BasicNetwork<double>;

}  // namespace ctrnn
