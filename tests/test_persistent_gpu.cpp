// GPU test (part of test_cuda_gpu): every path of the recurrence forced on the CUDA backend (the sequence, the
// persistent kernel on one CTA, on clusters of every size the dispatcher can choose) against the
// CPU backend through every virtual of Backend<float> (test_host_backend_compare.hpp), and the
// persistent paths against the sequence on the same device. Skips without a CUDA device. The
// same phase code runs on the host in test_persistent_emulated (label emulated) on every commit;
// what this adds is the hardware: scheduling, the cluster barrier, distributed shared memory.
#include <gtest/gtest.h>

#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_primitives.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "orchestrated/recurrence_plan.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

using detail::RecurrenceOptions;
using detail::RecurrencePath;
using test::BackendCase;

struct PathCase {
  BackendCase c;
  RecurrenceOptions o;
};

std::string name(const PathCase& p) {
  return test::case_name(p.c) + "_" + to_string(p.o.path) + "_C" + std::to_string(p.o.cluster_size);
}
void PrintTo(const PathCase& p, std::ostream* os) { *os << name(p); }

std::unique_ptr<detail::Backend<float>> cuda_backend(const Config& c, const RecurrenceOptions& o) {
  detail::CudaBackendOptions options;
  options.poison_buffers = true;
  options.recurrence = o;
  return detail::make_cuda_backend(c, MathMode::FP32, options);
}

class PersistentGpu : public ::testing::TestWithParam<PathCase> {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_P(PersistentGpu, ForcedPathMatchesTheCpuBackend) {
  const PathCase pc = GetParam();
  const test::Problem p = test::make_problem(pc.c);
  auto gpu = cuda_backend(p.config, pc.o);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  test::compare_backends(*gpu, *cpu, pc.c, p, test::kGpuTolerances, /*adam=*/false);
}

std::vector<PathCase> path_cases() {
  std::vector<PathCase> cases;
  uint64_t seed = 7000;
  const auto add = [&](BackendCase c, RecurrencePath path, int cluster) {
    c.seed = seed++;
    RecurrenceOptions o;
    o.path = path, o.cluster_size = cluster;
    cases.push_back({c, o});
  };
  for (int full = 0; full < 2; ++full)
    for (Activation a : {Activation::Tanh, Activation::ReLU, Activation::Sigmoid, Activation::ReTanh}) {
      BackendCase c;
      // ReLU and retanh: at most ~2e4 elements E T B H (see kGpuTolerances on their kink)
      const bool kink = a == Activation::ReLU || a == Activation::ReTanh;
      c.activation = a, c.E = full ? 3 : 1, c.H = 100, c.B = kink ? 3 : 9, c.T = kink ? 20 : 50;
      c.masks = c.noise = c.biases = c.regularizers = full == 1;
      c.u_per_network = full == 1;
      c.mask_shape = full ? LossMask::TimeBatchOutput : LossMask::None;
      add(c, RecurrencePath::Sequence, 0);
      add(c, RecurrencePath::PersistentCta, 0);
      for (int size : {2, 4, 8, 16}) add(c, RecurrencePath::PersistentCluster, size);
    }
  // The sizes of the targets: H = 256 and 512 on clusters, B = 64; and B = 1, T = 1.
  BackendCase big;
  big.activation = Activation::Tanh, big.H = 256, big.B = 64, big.T = 20, big.noise = true, big.biases = true;
  add(big, RecurrencePath::PersistentCluster, 0);
  big.H = 512;
  add(big, RecurrencePath::PersistentCluster, 0);
  BackendCase tiny;
  tiny.H = 7, tiny.B = 1, tiny.T = 1, tiny.noise = true;
  add(tiny, RecurrencePath::PersistentCta, 0);
  add(tiny, RecurrencePath::PersistentCluster, 4);
  // Learned biases and h0 over two batch tiles per network (the dispatcher's tile of 3 rows at
  // E = 2): the backward kernel's sums across tiles, small enough for compute-sanitizer.
  BackendCase tiles = tiny;
  tiles.E = 2, tiles.B = 5, tiles.T = 3, tiles.biases = true;
  add(tiles, RecurrencePath::PersistentCta, 0);
  add(tiles, RecurrencePath::PersistentCluster, 4);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Paths, PersistentGpu, ::testing::ValuesIn(path_cases()),
                         [](const auto& info) { return name(info.param); });

// Auto picks a persistent path where the table says so (docs/gpu-dispatch.md) and it runs.
TEST(PersistentGpuDispatch, AutoRunsThePlannedPath) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  BackendCase c;
  c.H = 256, c.B = 64, c.T = 10;
  const test::Problem p = test::make_problem(c);
  auto gpu = cuda_backend(p.config, RecurrenceOptions{});
  test::load_problem(*gpu, p);
  gpu->forward(test::forward_args(c, p, 0, detail::InitialState::Zero, false));
  const auto& plan = dynamic_cast<detail::OrchestratedBackend<detail::CudaPrims>&>(*gpu).recurrence_plan();
  EXPECT_EQ(plan.path, RecurrencePath::PersistentCluster) << plan.reason;
}

}  // namespace
}  // namespace ctrnn
