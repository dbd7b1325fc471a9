#pragma once
// A CUDA backend whose every call runs on its own device: DeviceBound<Base> (Base: a
// Backend<float> on CUDA device `device`, OrchestratedBackend<CudaPrims> in the library) makes
// that device current for each call, its construction and its destruction, and restores the
// caller's current device afterwards (DeviceGuard; issue 24, defect 4). Calls that touch no
// device (device(), description(), location()) are Base's own. A new virtual call of Backend
// needs its line here (test_cuda_stubbed calls every one of them).
#include <optional>
#include <utility>

#include "backend.hpp"
#include "cuda/device_guard.hpp"

namespace ctrnn::detail {

// The first base of DeviceBound: constructed before Base and destroyed after it, so that Base's
// constructor and destructor run with the device current too.
class DeviceScope {
 protected:
  explicit DeviceScope(int device) : device_(device) { enter(); }
  ~DeviceScope() { leave(); }
  void enter() { scope_.emplace(device_); }
  void leave() noexcept { scope_.reset(); }
  int device_;

 private:
  std::optional<cuda::DeviceGuard> scope_;
};

template <class Base>
class DeviceBound : private DeviceScope, public Base {
 public:
  template <class... Args>
  explicit DeviceBound(int device, Args&&... args) : DeviceScope(device), Base(std::forward<Args>(args)...) {
    leave();  // constructed: the caller's device again
  }
  ~DeviceBound() override {
    try {
      enter();  // for Base's destructor (it frees device memory); ~DeviceScope restores
    } catch (...) {  // the device is gone: Base's destructor ignores errors anyway
    }
  }

  void set_params(const Params<float>& p) override { on_device([&] { Base::set_params(p); }); }
  void get_params(Params<float>& p) override { on_device([&] { Base::get_params(p); }); }
  void write_params(const std::array<Located<const float>, kNumParamArrays>& src) override {
    on_device([&] { Base::write_params(src); });
  }
  void set_constraints(const std::array<LayerConstraints<float>, 3>& c) override {
    on_device([&] { Base::set_constraints(c); });
  }
  void get_sparsity(std::array<std::vector<float>, 3>& s) override { on_device([&] { Base::get_sparsity(s); }); }
  void order_after(Stream s) override { on_device([&] { Base::order_after(s); }); }
  void order_before(Stream s) override { on_device([&] { Base::order_before(s); }); }
  void forward(const ForwardArgs<float>& a) override { on_device([&] { Base::forward(a); }); }
  void read_forward(Located<float> y, Located<float> r) override { on_device([&] { Base::read_forward(y, r); }); }
  void get_kept_state(std::vector<float>& v) override { on_device([&] { Base::get_kept_state(v); }); }
  void set_kept_state(const std::vector<float>& v, int64_t batch) override {
    on_device([&] { Base::set_kept_state(v, batch); });
  }
  std::vector<double> loss(const LossArgs<float>& a) override { return on_device([&] { return Base::loss(a); }); }
  void backward(Located<const float> gy, Located<const float> gr, Located<float> du = {}) override {
    on_device([&] { Base::backward(gy, gr, du); });
  }
  void backward_from_loss() override { on_device([&] { Base::backward_from_loss(); }); }
  void read_gradients(Gradients<float>& g) override { on_device([&] { Base::read_gradients(g); }); }
  void read_gradient(int k, Located<float> dst) override { on_device([&] { Base::read_gradient(k, dst); }); }
  std::vector<double> optimizer_step(const OptimizerConfig& opt, int64_t step) override {
    return on_device([&] { return Base::optimizer_step(opt, step); });
  }
  void grow_synapses(uint64_t seed, int64_t step) override { on_device([&] { Base::grow_synapses(seed, step); }); }
  StepResult train_step(const ForwardArgs<float>& f, const LossArgs<float>& l, const OptimizerConfig& opt,
                        int64_t step) override {
    return on_device([&] { return Base::train_step(f, l, opt, step); });
  }
  void get_optimizer_state(OptimizerState<float>& s) override { on_device([&] { Base::get_optimizer_state(s); }); }
  void set_optimizer_state(const OptimizerState<float>& s) override {
    on_device([&] { Base::set_optimizer_state(s); });
  }
  void set_diverged(const std::vector<uint8_t>& d) override { on_device([&] { Base::set_diverged(d); }); }

 private:
  template <class F>
  auto on_device(const F& call) {
    const cuda::DeviceGuard guard(device_);
    return call();
  }
};

}  // namespace ctrnn::detail
