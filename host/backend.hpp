#pragma once
// The seam between a network and where it computes. A backend holds the parameters, masks,
// optimizer state and the last forward's trace of E networks, and runs the forward pass, loss,
// BPTT, optimizer update, projection and synapse growth. CpuBackend runs the reference; the CUDA
// backend runs kernels and must give the same results (tests compare the two). Inputs and outputs
// are host pointers or pointers into the backend's own device memory (Located: the network has
// checked which, and that a device pointer is on the backend's device); what stays inside stays on
// the device.
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ctrnn/config.hpp"
#include "ctrnn/constraints.hpp"
#include "ctrnn/device.hpp"
#include "ctrnn/loss.hpp"
#include "ctrnn/optimizer.hpp"
#include "ctrnn/params.hpp"
#include "ctrnn/view.hpp"

namespace ctrnn::detail {

// Where a pointer handed to a backend points: host memory, or the backend's device memory.
enum class Memory { Host, Device };

// A pointer and where it points. Converts implicitly from a plain (host) pointer.
template <class T>
struct Located {
  T* ptr = nullptr;
  Memory memory = Memory::Host;
  Located() = default;
  Located(T* p, Memory m = Memory::Host) : ptr(p), memory(m) {}
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Located(const Located<U>& o) : ptr(o.ptr), memory(o.memory) {}
  explicit operator bool() const { return ptr != nullptr; }
  bool on_device() const { return memory == Memory::Device; }
};

// param_learned of every array, in ParamArray order: what a backend updates and where it keeps
// zero gradients.
inline std::array<bool, kNumParamArrays> learned_arrays(const Config& c) {
  std::array<bool, kNumParamArrays> learned{};
  for (int k = 0; k < kNumParamArrays; ++k) learned[k] = param_learned(c, k);
  return learned;
}

enum class InitialState { Zero, H0, Kept };  // v_0 = 0, v_0 = h0, v_0 = the kept v_T

template <class T>
struct ForwardArgs {
  Located<const T> u;  // (steps, batch, I) or (E, steps, batch, I)
  bool u_per_network = false;
  int64_t steps = 0, batch = 0;
  InitialState initial = InitialState::Zero;
  Dynamics dynamics;      // noise sigmas are zero in eval mode
  uint64_t seed = 0;      // noise of call `call`: RandomStream(seed, Pre/PostactNoise, e, t, call).normal(b*H + h)
  uint64_t call = 0;
  bool keep_final_state = false;  // store v_T for InitialState::Kept
};

template <class T>
struct LossArgs {
  Located<const T> target;  // (steps, batch, O) or (E, steps, batch, O)
  bool target_per_network = false;
  Located<const T> mask;    // null, (steps, batch) or (steps, batch, O) as mask_shape says
  LossMask mask_shape = LossMask::None;
  LossWeights weights;
};

// What one training step (Backend::train_step) reports.
struct StepResult {
  std::vector<double> terms;       // (E, kNumLossTerms) unweighted loss terms
  std::vector<double> grad_norm;   // (E) before clipping
  std::vector<uint8_t> diverged;   // (E) after the step: 1 for a frozen network (Backend::diverged)
};

// Whether each network's weighted loss sum_k lambda_k term_k is finite (terms (E, kNumLossTerms)).
inline std::vector<uint8_t> weighted_losses_finite(const std::vector<double>& terms, const LossWeights& w) {
  std::vector<uint8_t> finite;
  for (size_t e = 0; e + kNumLossTerms <= terms.size(); e += kNumLossTerms) {
    double total = 0;
    for (int k = 0; k < kNumLossTerms; ++k) total += w.lambda[k][int64_t(e / kNumLossTerms)] * terms[e + k];
    finite.push_back(std::isfinite(total) ? 1 : 0);
  }
  return finite;
}

template <class T>
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual std::string description() const = 0;
  // Where the backend's memory is: views elsewhere than there or on the host are refused, and
  // Memory::Device pointers are given only to a backend whose location is a CUDA device.
  virtual Location location() const { return Location::host(); }

  virtual void set_params(const Params<T>& p) = 0;
  virtual void get_params(Params<T>& p) = 0;
  // Writes the given arrays (src[k]: param_shape(k) values, or null to keep array k), then
  // projects the weights written onto the constraints.
  virtual void write_params(const std::array<Located<const T>, kNumParamArrays>& src) = 0;
  virtual void set_constraints(const std::array<LayerConstraints<T>, 3>& c) = 0;
  virtual void get_sparsity(std::array<std::vector<T>, 3>& s) = 0;  // masks change with growth

  // Orders the backend's next work after what the caller queued on `s` (order_after, first in a
  // call; refuses a stream of another device), and the caller's later work on `s` after the
  // backend's (order_before, last in a call). No-ops where the backend computes on the host.
  virtual void order_after(Stream) {}
  virtual void order_before(Stream) {}

  virtual void forward(const ForwardArgs<T>& a) = 0;
  // The last forward's outputs (E, steps, batch, O) and rates r_1..r_T (E, steps, batch, H);
  // either pointer may be null.
  virtual void read_forward(Located<T> y, Located<T> r) = 0;
  virtual void get_kept_state(std::vector<T>& v) = 0;  // (E, batch, H); empty when none
  virtual void set_kept_state(const std::vector<T>& v, int64_t batch) = 0;

  // Loss of the last forward: unweighted terms (E, kNumLossTerms); keeps dL/dy, dL/dr and the
  // weight terms' gradients for backward_from_loss().
  virtual std::vector<double> loss(const LossArgs<T>& a) = 0;
  // BPTT of the last forward into the backend's gradients; gr may be null. du, when given,
  // receives dL/du shaped as the forward's u: (steps, batch, I) summed over the networks for a
  // shared u, (E, steps, batch, I) for a per-network u.
  virtual void backward(Located<const T> gy, Located<const T> gr, Located<T> du = {}) = 0;
  virtual void backward_from_loss() = 0;
  virtual void read_gradients(Gradients<T>& g) = 0;
  // One gradient array (k: Params::arrays() order) into `dst`, which holds its size.
  virtual void read_gradient(int k, Located<T> dst) = 0;

  // One optimizer update from the current gradients (step is 1-based, for Adam's bias
  // correction): weight decay, per-network clipping, update scaled by plasticity, projection.
  // Only networks that have not diverged are updated; a network whose gradient norm or update
  // would be NaN or Inf is not updated and has diverged from then on. Returns each network's
  // gradient norm before clipping.
  virtual std::vector<double> optimizer_step(const OptimizerConfig& opt, int64_t step) = 0;
  // Synapse growth after optimizer step `step`: where the sparsity mask is 0, with probability
  // p = growth the synapse appears (mask 1, weight 0, optimizer state 0).
  virtual void grow_synapses(uint64_t seed, int64_t step) = 0;
  // One training step: forward, loss, BPTT and optimizer_step (growth aside). A network whose
  // weighted loss is not finite diverges: its parameters and optimizer state keep their last good
  // values, now and at every later step (the forward's trace and kept state are the new ones).
  // This default makes the calls in sequence; the orchestrated backend runs them as one CUDA
  // graph that decides per network on the device.
  virtual StepResult train_step(const ForwardArgs<T>& f, const LossArgs<T>& l, const OptimizerConfig& opt,
                                int64_t step) {
    forward(f);
    StepResult r;
    r.terms = loss(l);
    const std::vector<uint8_t> finite = weighted_losses_finite(r.terms, l.weights);
    std::vector<uint8_t> d = diverged();
    for (size_t e = 0; e < d.size(); ++e) d[e] |= finite[e] ? 0 : 1;
    set_diverged(d);
    backward_from_loss();
    r.grad_norm = optimizer_step(opt, step);
    r.diverged = diverged();
    return r;
  }
  // (E) 1 for a network that has diverged (a non-finite loss or update): the optimizer no longer
  // changes its parameters or moments. Read from the host's copy, without waiting for a device.
  virtual std::vector<uint8_t> diverged() const = 0;
  virtual void set_diverged(const std::vector<uint8_t>& d) = 0;  // E values
  virtual void get_optimizer_state(OptimizerState<T>& s) = 0;
  virtual void set_optimizer_state(const OptimizerState<T>& s) = 0;
};

// The plain CPU reference (host/reference/) as a backend: the oracle of the tests, and the CPU
// backend of double networks.
template <class T>
std::unique_ptr<Backend<T>> make_cpu_backend(const Config& c);

// The CPU backend of float networks: the CUDA backend's orchestration over OpenBLAS GEMMs when the
// build has BLAS (host/orchestrated/blas_primitives.hpp), an ensemble network by network
// (host/orchestrated/network_parallel_backend.hpp); else the reference.
std::unique_ptr<Backend<float>> make_host_backend(const Config& c);

// Throws StateError when the library has no CUDA or no device is present. float only.
std::unique_ptr<Backend<float>> make_cuda_backend(const Config& c, MathMode math);

// Why Device::Auto does not use the CUDA backend, "" when it does: a build without CUDA, no
// device, or a device whose cuBLAS cannot be loaded. Device::Auto then uses the CPU backend and
// logs this reason once per process (network.cpp).
std::string cuda_unusable_reason();
// The build's answer (device.cpp without CUDA, host/cuda/cuda_backend.cpp with it).
std::string cuda_backend_unusable();
// Tests: cuda_unusable_reason() answers `reason` instead (nullopt: the build's answer again), so
// that the CPU fallback of a device without cuBLAS can be tested on a machine without a GPU.
void override_cuda_unusable_reason(std::optional<std::string> reason);

}  // namespace ctrnn::detail
