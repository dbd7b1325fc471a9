// GPU test: the view calls with device memory on a caller-created stream. Inputs are read on the
// device, outputs land in the caller's buffers (poisoned with NaN first), the results equal the
// CPU backend's, and the work is ordered on the caller's stream both ways without the host
// waiting. Skips without a CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <thread>

#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"
#include "cuda/cuda_check.hpp"
#include "test_host_backend_compare.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

// Same tolerances as test_cuda_network.cpp (float32, cuBLAS's summation orders).
constexpr double kForwardRel = 1e-4, kGradientRel = 5e-4;

class CudaViews : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
    ASSERT_EQ(cudaGetDevice(&device_), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
  }
  void TearDown() override {
    if (stream_) (void)cudaStreamDestroy(stream_);
  }
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
};

// Device memory the test owns, and a view of it.
class DeviceArray {
 public:
  explicit DeviceArray(Shape shape) : shape_(std::move(shape)), n_(element_count(shape_)) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, size_t(n_) * sizeof(float)), cudaSuccess);
    data_ = static_cast<float*>(p);
    poison();
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { (void)cudaFree(data_); }

  void poison() {  // all bits set: a NaN in every element
    EXPECT_EQ(cudaMemset(data_, 0xFF, size_t(n_) * sizeof(float)), cudaSuccess);
  }
  void upload(const Tensor<float>& t) {
    EXPECT_EQ(cudaMemcpy(data_, t.ptr(), size_t(n_) * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<float> download() const {
    std::vector<float> v(static_cast<size_t>(n_));
    EXPECT_EQ(cudaMemcpy(v.data(), data_, v.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    return v;
  }
  View view() const {
    int device = 0;
    (void)cudaGetDevice(&device);
    return {data_, shape_, {}, DType::Float32, Location::cuda(device)};
  }
  float* data() const { return data_; }
  int64_t size() const { return n_; }

 private:
  Shape shape_;
  int64_t n_;
  float* data_ = nullptr;
};

Config network_config(int64_t E, uint64_t seed) {
  test::BackendCase c;
  c.activation = Activation::Tanh, c.E = E, c.H = 64, c.I = 3, c.O = 2, c.masks = true, c.noise = true,
  c.biases = true, c.seed = seed;
  return test::make_problem(c).config;
}

Tensor<float> random_tensor(Shape s, uint64_t seed) {
  const int64_t n = element_count(s);
  return Tensor<float>(std::move(s), test::random_vector<float>(size_t(n), seed));
}

void sleep_on_host(void* done) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  static_cast<std::atomic<bool>*>(done)->store(true);
}

TEST_F(CudaViews, ForwardReadsAndWritesDeviceMemoryInOrderOnTheCallersStream) {
  const int64_t E = 4, T = 30, B = 8;
  const Config cfg = network_config(E, 5);
  Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
  DeviceArray u({T, B, 3}), y({E, T, B, 2}), r({E, T, B, 64});
  const View uv = u.view(), yv = y.view(), rv = r.view();
  for (int call = 0; call < 3; ++call) {  // the first call runs launch by launch, later ones as graphs
    const Tensor<float> u_host = random_tensor({T, B, 3}, 10 + call);
    u.poison(), y.poison(), r.poison();
    // On the caller's stream: a 200 ms host wait, then u is written. A forward that did not wait
    // for the stream would read the poisoned u.
    float* pinned = nullptr;
    void* staging = nullptr;
    CUDA_OK(cudaMallocHost(&staging, size_t(u.size()) * sizeof(float)));
    pinned = static_cast<float*>(staging);
    std::copy(u_host.data.begin(), u_host.data.end(), pinned);
    std::atomic<bool> slept{false};
    CUDA_OK(cudaLaunchHostFunc(stream_, sleep_on_host, &slept));
    CUDA_OK(cudaMemcpyAsync(u.data(), pinned, size_t(u.size()) * sizeof(float), cudaMemcpyHostToDevice, stream_));
    gpu.forward(uv, &yv, &rv, Stream{stream_});
    // The first call of a shape may wait (module loading, allocation); later ones must not, unless
    // CTRNN_CUDA_SYNC_CHECK asks every launch to synchronize (scripts/gpu-check.sh sets it).
    if (call > 0 && !cuda::sync_check_enabled()) EXPECT_FALSE(slept.load()) << "forward waited for the device (call " << call << ")";
    // Read y and r on the caller's stream: without the ordering back, before they are written.
    std::vector<float> y_out(size_t(y.size())), r_out(size_t(r.size()));
    CUDA_OK(cudaMemcpyAsync(y_out.data(), y.data(), y_out.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    CUDA_OK(cudaMemcpyAsync(r_out.data(), r.data(), r_out.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    CUDA_OK(cudaStreamSynchronize(stream_));
    CUDA_OK(cudaFreeHost(pinned));
    const auto expected = cpu.forward(u_host);
    EXPECT_TRUE(test::close_to(y_out, expected.y.data, kForwardRel)) << "y, call " << call;
    EXPECT_TRUE(test::close_to(r_out, expected.r.data, kForwardRel)) << "r, call " << call;
    // What the network kept (last_outputs, backward's trace) is the same forward.
    EXPECT_TRUE(test::close_to(gpu.last_outputs().data, expected.y.data, kForwardRel));
  }
}

TEST_F(CudaViews, HostAndDeviceViewsMix) {
  const int64_t E = 2, T = 12, B = 3;
  const Config cfg = network_config(E, 6);
  Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
  const Tensor<float> u_host = random_tensor({E, T, B, 3}, 1);
  DeviceArray u({E, T, B, 3}), y({E, T, B, 2});
  u.upload(u_host);
  Tensor<float> r_host({E, T, B, 64}, std::numeric_limits<float>::quiet_NaN());
  const View uv = u.view(), yv = y.view(), rv = view_of(r_host);
  gpu.forward(uv, &yv, &rv);  // device u, device y, host r; the default stream
  CUDA_OK(cudaDeviceSynchronize());
  const auto expected = cpu.forward(u_host);
  EXPECT_TRUE(test::close_to(y.download(), expected.y.data, kForwardRel));
  EXPECT_TRUE(test::close_to(r_host.data, expected.r.data, kForwardRel));
  // host u, device y
  const View uh = view_of(u_host);
  y.poison();
  gpu.forward(uh, &yv, nullptr, Stream{stream_});
  CUDA_OK(cudaStreamSynchronize(stream_));
  EXPECT_TRUE(test::close_to(y.download(), cpu.forward(u_host).y.data, kForwardRel));
}

TEST_F(CudaViews, BackwardWritesGradientsIntoDeviceBuffers) {
  const int64_t E = 3, T = 20, B = 5, I = 3, H = 64, O = 2;
  Config cfg = network_config(E, 7);
  cfg.init_state = InitState::Learn;
  Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
  const Tensor<float> u_host = random_tensor({T, B, I}, 2), dy_host = random_tensor({E, T, B, O}, 3),
                      dr_host = random_tensor({E, T, B, H}, 4);
  DeviceArray u({T, B, I}), dy({E, T, B, O}), dr({E, T, B, H});
  u.upload(u_host), dy.upload(dy_host), dr.upload(dr_host);
  std::vector<std::unique_ptr<DeviceArray>> grads;
  std::vector<View> views;
  std::array<const View*, kNumParamArrays> out{};
  for (int k = 0; k < kNumParamArrays; ++k) grads.push_back(std::make_unique<DeviceArray>(param_shape(k, cfg)));
  for (const auto& g : grads) views.push_back(g->view());
  for (int k = 0; k < kNumParamArrays; ++k) out[k] = &views[k];
  const View uv = u.view(), dyv = dy.view(), drv = dr.view();
  gpu.forward(uv, nullptr, nullptr, Stream{stream_});
  gpu.backward(dyv, &drv, out, Stream{stream_});
  CUDA_OK(cudaStreamSynchronize(stream_));
  cpu.forward(u_host);
  const Gradients<float> expected = cpu.backward(dy_host, &dr_host);
  const auto want = expected.arrays();
  for (int k = 0; k < kNumParamArrays; ++k) EXPECT_TRUE(test::close_to(grads[k]->download(), *want[k], kGradientRel)) << kParamNames[k];
  test::expect_params_close(gpu.gradients(), expected, kGradientRel, "gradients()");
}

TEST_F(CudaViews, TrainingStepsReadDeviceInputs) {
  const int64_t E = 2, T = 20, B = 8;
  const Config cfg = network_config(E, 8);
  Network gpu(cfg, Device::Cuda), cpu(cfg, Device::Cpu);
  OptimizerConfig opt;
  opt.kind = OptimizerConfig::Kind::SGD;  // no Adam sign flips at cancelling gradients (test_cuda_network.cpp)
  opt.lr = 1e-2;
  LossWeights w;
  w[kLossFr] = 0.1;
  Trainer tg(gpu, opt, w), tc(cpu, opt, w);
  DeviceArray u({T, B, 3}), target({E, T, B, 2}), mask({T, B, 2});
  const View uv = u.view(), tv = target.view(), mv = mask.view();
  for (int s = 0; s < 4; ++s) {
    const Tensor<float> u_host = random_tensor({T, B, 3}, 100 + s), t_host = random_tensor({E, T, B, 2}, 200 + s);
    const Tensor<float> m_host({T, B, 2}, test::random_vector<float>(size_t(T * B * 2), 300 + s, 0, 1));
    u.upload(u_host), target.upload(t_host), mask.upload(m_host);
    const LossReport a = tg.step(uv, tv, &mv, Stream{stream_}), b = tc.step(u_host, t_host, &m_host);
    EXPECT_TRUE(test::close_to(a.total, b.total, kGradientRel)) << "step " << s;
    EXPECT_TRUE(test::close_to(a.grad_norm, b.grad_norm, kGradientRel)) << "step " << s;
    const LossReport ea = tg.evaluate(uv, tv, &mv, Stream{stream_}), eb = tc.evaluate(u_host, t_host, &m_host);
    EXPECT_TRUE(test::close_to(ea.total, eb.total, kGradientRel)) << "evaluate " << s;
  }
  test::expect_params_close(gpu.params(), cpu.params(), 2e-4, "params after 4 steps");
}

TEST_F(CudaViews, ViewsOfAnotherDeviceAreRefused) {
  Network gpu(network_config(1, 9), Device::Cuda), cpu(network_config(1, 9), Device::Cpu);
  DeviceArray u({5, 2, 3});
  View other = u.view();
  other.location = Location::cuda(device_ + 1);
  test::expect_refused([&] { gpu.forward(other); }, "inputs");
  test::expect_refused([&] { cpu.forward(u.view()); }, "inputs");  // device memory, CPU network
  EXPECT_EQ(gpu.forward_calls(), 0u);
  EXPECT_EQ(cpu.forward_calls(), 0u);
  int count = 0;
  CUDA_OK(cudaGetDeviceCount(&count));
  if (count < 2) return;
  // A stream of another device
  cudaStream_t s1 = nullptr;
  CUDA_OK(cudaSetDevice(device_ == 0 ? 1 : 0));
  CUDA_OK(cudaStreamCreate(&s1));
  CUDA_OK(cudaSetDevice(device_));
  test::expect_refused([&] { gpu.forward(u.view(), nullptr, nullptr, Stream{s1}); }, "stream");
  EXPECT_EQ(gpu.forward_calls(), 0u);
  (void)cudaStreamDestroy(s1);
}

}  // namespace
}  // namespace ctrnn
