// GPU test: the CUDA backend against the CPU backend through every virtual of Backend<float>
// (forward with noise, loss with masks and regularizers, BPTT, optimizer steps, growth, keep
// mode; test_host_backend_compare.hpp), on fresh random problems, with every device buffer
// NaN-filled whenever it is sized for a call and every host output NaN-filled before the call.
// Sizes: a subset of H in {1, 7, 64, 257, 1024} x B in {1, 3, 64} x T in {1, 2, 100} x E in
// {1, 8}, every activation, with and without masks; chosen so the CPU reference side stays near a
// second per case. Skips without a CUDA device.
#include <gtest/gtest.h>

#include <limits>

#include "cuda/cuda_backend.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

using test::BackendCase;

struct GpuCase {
  BackendCase c;
  bool adam;  // false: SGD only (large problems; see compare_backends)
};

void PrintTo(const GpuCase& g, std::ostream* os) { *os << test::case_name(g.c) << (g.adam ? "_adam" : "_sgd"); }

class CudaBackendVsCpu : public ::testing::TestWithParam<GpuCase> {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_P(CudaBackendVsCpu, EveryCallMatches) {
  const GpuCase g = GetParam();
  const test::Problem p = test::make_problem(g.c);
  detail::CudaBackendOptions options;
  options.poison_buffers = true;
  auto gpu = detail::make_cuda_backend(p.config, MathMode::FP32, options);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  EXPECT_EQ(gpu->device(), Device::Cuda);
  test::compare_backends(*gpu, *cpu, g.c, p, test::kGpuTolerances, g.adam);
}

GpuCase make(Activation a, int64_t E, int64_t H, int64_t B, int64_t T, const std::string& flags, bool adam) {
  static uint64_t seed = 1000;
  BackendCase c;
  c.activation = a, c.E = E, c.H = H, c.B = B, c.T = T, c.seed = seed++;
  c.I = 3, c.O = 2;
  const auto has = [&](const char* f) { return flags.find(f) != std::string::npos; };
  c.masks = has("masks");
  c.noise = has("noise");
  c.biases = has("bias");
  c.u_per_network = has("uE") && E > 1;
  c.regularizers = has("reg");
  c.mask_shape = has("mTBO") ? LossMask::TimeBatchOutput : has("mTB") ? LossMask::TimeBatch : LossMask::None;
  return {c, adam};
}

constexpr Activation kRelu = Activation::ReLU, kTanh = Activation::Tanh, kSigmoid = Activation::Sigmoid,
                     kReTanh = Activation::ReTanh;

std::vector<GpuCase> gpu_cases() {
  const std::string full = "masks noise bias uE mTBO reg";
  return {
      // H = 1 (no firing-rate regularizers: their std over one neuron is undefined)
      make(kRelu, 1, 1, 1, 1, "", true),
      make(kTanh, 8, 1, 3, 100, "noise bias uE mTB", true),
      make(kSigmoid, 1, 1, 64, 2, "masks mTBO", true),
      // H = 7
      make(kReTanh, 8, 7, 3, 100, full, true),
      make(kRelu, 1, 7, 3, 2, "masks", true),
      make(kTanh, 1, 7, 1, 100, "noise bias", true),
      make(kSigmoid, 8, 7, 64, 1, full, true),
      // H = 64
      make(kTanh, 8, 64, 64, 100, full, false),
      make(kRelu, 1, 64, 3, 100, "masks noise reg", true),
      make(kSigmoid, 8, 64, 1, 2, "bias mTB", true),
      make(kReTanh, 1, 64, 64, 2, "masks reg", true),
      // H = 257
      make(kSigmoid, 8, 257, 3, 100, full, false),
      make(kTanh, 1, 257, 64, 2, "masks noise", false),
      make(kRelu, 1, 257, 1, 1, "noise bias", true),
      make(kReTanh, 8, 257, 3, 1, "masks", false),
      // H = 1024
      make(kTanh, 1, 1024, 64, 2, "masks noise mTBO", false),
      make(kSigmoid, 8, 1024, 3, 2, "bias reg uE", false),
      make(kTanh, 1, 1024, 3, 100, "noise", false),
      make(kRelu, 1, 1024, 1, 2, "masks", false),
  };
}

INSTANTIATE_TEST_SUITE_P(Sizes, CudaBackendVsCpu, ::testing::ValuesIn(gpu_cases()), [](const auto& info) {
  return test::case_name(info.param.c) + (info.param.adam ? "_adam" : "_sgd");
});

// The same backend object through calls of changing shape (buffers regrow and shrink).
TEST(CudaBackendState, CallsOfChangingShape) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  BackendCase c;
  c.E = 3, c.H = 33, c.noise = true, c.biases = true, c.regularizers = true, c.masks = true;
  std::unique_ptr<detail::Backend<float>> gpu, cpu;
  for (const auto& [T, B] : std::vector<std::pair<int64_t, int64_t>>{{50, 2}, {2, 64}, {4, 1}, {60, 8}}) {
    c.T = T, c.B = B, c.seed = uint64_t(3000 + T);
    const test::Problem p = test::make_problem(c);
    if (!gpu) {
      detail::CudaBackendOptions options;
      options.poison_buffers = true;
      gpu = detail::make_cuda_backend(p.config, MathMode::FP32, options);
      cpu = detail::make_cpu_backend<float>(p.config);
    }
    test::compare_backends(*gpu, *cpu, c, p, test::kGpuTolerances);
  }
}

// The graphed sequence (one CUDA graph per call shape, replayed) against the same sequence
// launched kernel by kernel: the same kernels and cuBLAS calls on the same data, so the same
// bits (cuBLAS picks the same algorithm for the same shape and stream workspace).
TEST(CudaBackendState, GraphsEqualTheUngraphedSequence) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  BackendCase c;
  c.E = 4, c.H = 64, c.B = 16, c.T = 50, c.noise = true, c.biases = true, c.regularizers = true, c.masks = true;
  c.mask_shape = LossMask::TimeBatch;
  const test::Problem p = test::make_problem(c);
  detail::CudaBackendOptions graphed, ungraphed;
  ungraphed.graphs = false;
  auto a = detail::make_cuda_backend(p.config, MathMode::FP32, graphed);
  auto b = detail::make_cuda_backend(p.config, MathMode::FP32, ungraphed);
  for (auto* x : {a.get(), b.get()}) {
    test::load_problem(*x, p);
  }
  OptimizerConfig opt;
  opt.clip_grad_norm = 0.5;
  const detail::InitialState initial = detail::InitialState::H0;
  // Step 1 has a key of its own (SGD's first step differs); steps 2-5 share one: run launch by
  // launch at step 2, captured at 3, replayed at 4 and 5.
  for (int64_t step = 1; step <= 5; ++step) {
    const auto f = test::forward_args(c, p, uint64_t(step), initial, false);
    const auto ra = a->train_step(f, test::loss_args(c, p, p.target), opt, step);
    const auto rb = b->train_step(f, test::loss_args(c, p, p.target), opt, step);
    EXPECT_EQ(ra.terms, rb.terms) << "step " << step;
    EXPECT_EQ(ra.grad_norm, rb.grad_norm) << "step " << step;
  }
  for (int call = 0; call < 3; ++call) {  // forward only: run, captured, replayed; new noise each call
    const auto f = test::forward_args(c, p, uint64_t(100 + call), initial, false);
    a->forward(f);
    b->forward(f);
    std::vector<float> ya(size_t(c.E * c.T * c.B * c.O)), yb(ya.size());
    a->read_forward(ya.data(), nullptr);
    b->read_forward(yb.data(), nullptr);
    EXPECT_EQ(ya, yb) << "forward call " << call;
  }
  Params<float> pa, pb;
  a->get_params(pa);
  b->get_params(pb);
  EXPECT_EQ(pa.w_hid, pb.w_hid);
  EXPECT_EQ(pa.w_in, pb.w_in);
  EXPECT_EQ(pa.b_out, pb.b_out);
}

// Divergence inside a graphed step: the device freezes the diverging network (its gate decided on
// the device, through captured and replayed graphs) and the others train on.
TEST(CudaBackendState, DivergenceIsPerNetwork) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  test::expect_divergence_is_per_network([](const Config& c) { return detail::make_cuda_backend(c, MathMode::FP32); });
}

// Per-network values read by the graphed step from the input arena: each network as in a run with
// its values for all (same device, same kernels).
TEST(CudaBackendPerNetwork, ValuesEqualUniformRuns) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  test::expect_per_network_values_equal_uniform_runs([](const Config& c) { return detail::make_cuda_backend(c, MathMode::FP32); });
}

TEST(CudaBackendState, RefusesOutOfOrderCalls) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  BackendCase c;
  const test::Problem p = test::make_problem(c);
  auto gpu = detail::make_cuda_backend(p.config, MathMode::FP32);
  test::load_problem(*gpu, p);
  EXPECT_THROW(gpu->backward(p.gy.data(), nullptr), StateError);
  gpu->forward(test::forward_args(c, p, 0, detail::InitialState::Zero, false));
  EXPECT_THROW(gpu->backward_from_loss(), StateError);
  EXPECT_THROW(gpu->forward(test::forward_args(c, p, 1, detail::InitialState::Kept, false)), StateError);
}

}  // namespace
}  // namespace ctrnn
