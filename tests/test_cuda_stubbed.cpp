// The CUDA backend's error path and device binding against a stub of the CUDA runtime (defined
// here; the real runtime is not linked), so that they run on every CI machine, GPU or not:
// - a failed call's error is cleared where it is thrown, so the next launch check does not blame
//   an innocent kernel (issue 24, defect 2: check_cuda, host/cuda/cuda_check.*);
// - DeviceGuard makes the backend's device current and restores the caller's, and DeviceBound
//   runs every call of a backend, its construction and destruction on its own device, whatever
//   device the caller has made current (issue 24, defect 4: host/cuda/device_*.hpp).
// The stub keeps the runtime's state as the real one does for non-sticky errors: a failing call
// returns its error and leaves it as the "last error", which cudaGetLastError returns and resets.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/cuda_check.hpp"
#include "cuda/device_bound_backend.hpp"
#include "cuda/device_guard.hpp"

namespace {

struct StubRuntime {
  cudaError_t last = cudaSuccess;
  int current = 0;
  int devices = 4;
  int set_calls = 0;
  cudaError_t fail(cudaError_t e) {
    last = e;
    return e;
  }
};
StubRuntime stub;

}  // namespace

// The runtime calls the code under test makes (declared in cuda_runtime_api.h).
cudaError_t cudaGetLastError() {
  const cudaError_t e = stub.last;
  stub.last = cudaSuccess;
  return e;
}
const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    default: return "cudaError (stub)";
  }
}
const char* cudaGetErrorString(cudaError_t) { return "stub error"; }
cudaError_t cudaGetDevice(int* device) {
  *device = stub.current;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  ++stub.set_calls;
  if (device < 0 || device >= stub.devices) return stub.fail(cudaErrorInvalidDevice);
  stub.current = device;
  return cudaSuccess;
}
cudaError_t cudaStreamGetDevice(cudaStream_t, int*) { return stub.fail(cudaErrorInvalidResourceHandle); }
cudaError_t cudaStreamIsCapturing(cudaStream_t, cudaStreamCaptureStatus* status) {
  *status = cudaStreamCaptureStatusNone;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

namespace ctrnn {
namespace {

class Stubbed : public ::testing::Test {
 protected:
  void SetUp() override { stub = StubRuntime{}; }
};

// A failed call (a launch, an occupancy query, cudaStreamGetDevice, the end of a capture, a
// graph's instantiation: all go through CTRNN_CUDA_CHECK) throws naming itself, and the next
// kernel's launch check finds no error of its own.
TEST_F(Stubbed, EachErrorNamesItsOwnCall) {
  int device = -1;
  try {
    CTRNN_CUDA_CHECK(cudaStreamGetDevice(nullptr, &device));
    FAIL() << "no throw";
  } catch (const cuda::CudaError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cudaErrorInvalidResourceHandle"), std::string::npos) << what;
    EXPECT_NE(what.find("in cudaStreamGetDevice(nullptr, &device)"), std::string::npos) << what;
  }
  EXPECT_EQ(stub.last, cudaSuccess) << "the runtime's last error is left set";
  EXPECT_NO_THROW(CTRNN_CUDA_CHECK_LAUNCH("an innocent kernel", nullptr));

  // The launch check reports a launch's own error, once.
  stub.fail(cudaErrorInvalidValue);
  try {
    CTRNN_CUDA_CHECK_LAUNCH("a failing kernel", nullptr);
    FAIL() << "no throw";
  } catch (const cuda::CudaError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cudaErrorInvalidValue: stub error in launch of a failing kernel"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(CTRNN_CUDA_CHECK_LAUNCH("the next kernel", nullptr));
}

TEST_F(Stubbed, DeviceGuardSetsTheDeviceAndRestoresTheCallers) {
  stub.current = 1;
  {
    const cuda::DeviceGuard guard(3);
    EXPECT_EQ(stub.current, 3);
  }
  EXPECT_EQ(stub.current, 1);
  stub.set_calls = 0;
  {
    const cuda::DeviceGuard guard(1);  // already current: no cudaSetDevice at all
  }
  EXPECT_EQ(stub.set_calls, 0);
  EXPECT_THROW(cuda::DeviceGuard(9), cuda::CudaError);  // no such device
  EXPECT_EQ(stub.current, 1);
  EXPECT_EQ(stub.last, cudaSuccess);
}

// Records, for each call, the device current while it runs.
struct Recording {
  std::vector<std::pair<std::string, int>> calls;
  void operator()(const char* name) { calls.emplace_back(name, stub.current); }
};

class RecordingBackend : public detail::Backend<float> {
 public:
  explicit RecordingBackend(Recording* log) : log_(log) { (*log_)("constructor"); }
  ~RecordingBackend() override { (*log_)("destructor"); }
  Device device() const override { return Device::Cuda; }
  std::string description() const override { return "recording"; }
  void set_params(const Params<float>&) override { (*log_)("set_params"); }
  void get_params(Params<float>&) override { (*log_)("get_params"); }
  void write_params(const std::array<detail::Located<const float>, kNumParamArrays>&) override {
    (*log_)("write_params");
  }
  void set_constraints(const std::array<LayerConstraints<float>, 3>&) override { (*log_)("set_constraints"); }
  void get_sparsity(std::array<std::vector<float>, 3>&) override { (*log_)("get_sparsity"); }
  void order_after(Stream) override { (*log_)("order_after"); }
  void order_before(Stream) override { (*log_)("order_before"); }
  void forward(const detail::ForwardArgs<float>&) override { (*log_)("forward"); }
  void read_forward(detail::Located<float>, detail::Located<float>) override { (*log_)("read_forward"); }
  void get_kept_state(std::vector<float>&) override { (*log_)("get_kept_state"); }
  void set_kept_state(const std::vector<float>&, int64_t) override { (*log_)("set_kept_state"); }
  std::vector<double> loss(const detail::LossArgs<float>&) override {
    (*log_)("loss");
    return {};
  }
  void backward(detail::Located<const float>, detail::Located<const float>, detail::Located<float> = {}) override {
    (*log_)("backward");
  }
  void backward_from_loss() override {
    (*log_)("backward_from_loss");
    throw std::runtime_error("a call that fails");
  }
  void read_gradients(Gradients<float>&) override { (*log_)("read_gradients"); }
  void read_gradient(int, detail::Located<float>) override { (*log_)("read_gradient"); }
  std::vector<double> optimizer_step(const OptimizerConfig&, int64_t) override {
    (*log_)("optimizer_step");
    return {};
  }
  void grow_synapses(uint64_t, int64_t) override { (*log_)("grow_synapses"); }
  detail::StepResult train_step(const detail::ForwardArgs<float>&, const detail::LossArgs<float>&,
                                const OptimizerConfig&, int64_t) override {
    (*log_)("train_step");
    return {};
  }
  void get_optimizer_state(OptimizerState<float>&) override { (*log_)("get_optimizer_state"); }
  void set_optimizer_state(const OptimizerState<float>&) override { (*log_)("set_optimizer_state"); }
  std::vector<uint8_t> diverged() const override { return {}; }  // the host's copy: touches no device
  void set_diverged(const std::vector<uint8_t>&) override { (*log_)("set_diverged"); }

 private:
  Recording* log_;
};

TEST_F(Stubbed, EveryCallOfADeviceBoundBackendRunsOnItsDevice) {
  stub.current = 1;  // the caller's device
  Recording log;
  {
    detail::DeviceBound<RecordingBackend> backend(2, &log);
    EXPECT_EQ(stub.current, 1) << "after construction";
    detail::Backend<float>& b = backend;
    const std::vector<std::function<void()>> calls = {
        [&] { b.set_params(Params<float>{}); },
        [&] {
          Params<float> p;
          b.get_params(p);
        },
        [&] { b.write_params({}); },
        [&] { b.set_constraints({}); },
        [&] {
          std::array<std::vector<float>, 3> s;
          b.get_sparsity(s);
        },
        [&] { b.order_after(Stream{}); },
        [&] { b.order_before(Stream{}); },
        [&] { b.forward({}); },
        [&] { b.read_forward({}, {}); },
        [&] {
          std::vector<float> v;
          b.get_kept_state(v);
        },
        [&] { b.set_kept_state({}, 0); },
        [&] { b.loss({}); },
        [&] { b.backward({}, {}); },
        [&] { EXPECT_THROW(b.backward_from_loss(), std::runtime_error); },
        [&] {
          Gradients<float> g;
          b.read_gradients(g);
        },
        [&] { b.read_gradient(0, {}); },
        [&] { b.optimizer_step({}, 1); },
        [&] { b.grow_synapses(1, 1); },
        [&] { b.train_step({}, {}, {}, 1); },
        [&] {
          OptimizerState<float> s;
          b.get_optimizer_state(s);
        },
        [&] { b.set_optimizer_state({}); },
        [&] { b.set_diverged({}); },
    };
    for (size_t i = 0; i < calls.size(); ++i) {
      calls[i]();
      EXPECT_EQ(stub.current, 1) << "after call " << i << " (" << log.calls.back().first << ")";
    }
    EXPECT_EQ(log.calls.size(), calls.size() + 1);
    stub.current = 3;  // the caller switches devices
    b.forward({});
    EXPECT_EQ(stub.current, 3);
  }
  EXPECT_EQ(stub.current, 3) << "after destruction";
  ASSERT_EQ(log.calls.back().first, "destructor");
  for (const auto& [name, device] : log.calls) EXPECT_EQ(device, 2) << name << " ran on device " << device;
}

}  // namespace
}  // namespace ctrnn
