// The time loop per path (docs/gpu-dispatch.md): the CUDA backend's forward() alone, and forward()
// plus BPTT (backward from a given dL/dy), with the recurrence forced to `sequence`, `cta` or
// `cluster` (the dispatcher's geometry for that path) or left to `auto`; and the floor under the
// persistent kernels' time per step: the auto plan's kernel with its barriers and no work. Device
// results stay on the device (no read-back), so this times the loops and the GEMMs around them. A
// path that cannot run at a size is reported as skipped with the dispatcher's reason. The label
// names the plan that ran (path, cluster size, batch tile, parts of the recurrent sum, shared
// memory per CTA). Sizes (the shared grid and (512, 64, 200)), counters and the FLOP model:
// bench_common.hpp; bench/recurrence_targets.py turns a run's JSON into issue 11's targets. Names:
//   recurrence_forward/cuda/<path>/H:/B:/T:/E:, recurrence_train/cuda/<path>/...,
//   recurrence_barrier_floor/cuda/auto/...
// e.g. bench_recurrence --benchmark_filter='recurrence_forward/cuda/.*/H:256/'
// The dispatch grid (sizes at T = 50): bench_recurrence --benchmark_filter='/T:50/', read with
// bench/recurrence_targets.py --dispatch.
// Needs a GPU (registers nothing without one).
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_primitives.hpp"
#include "initialize.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "orchestrated/recurrence_plan.hpp"

namespace {

using ctrnn::detail::RecurrencePath;
using ctrnn::detail::RecurrencePlan;

enum class Mode { Forward, Train, BarrierFloor };

std::string describe(const RecurrencePlan& p) {
  if (p.path == RecurrencePath::Sequence) return "sequence";
  const auto& g = p.geometry;
  return to_string(p.path) + " C=" + std::to_string(g.cluster) + " tile=" + std::to_string(g.batch_tile) +
         " parts=" + std::to_string(g.parts) + " threads=" + std::to_string(g.threads) +
         " smem=" + std::to_string(p.shared_bytes / 1024) + "KB";
}

// The shared grid plus issue 11's second per-step target, (H, B) = (512, 64).
std::vector<ctrnn_bench::Size> recurrence_grid() {
  std::vector<ctrnn_bench::Size> grid = ctrnn_bench::size_grid();
  grid.push_back({512, 64, 200, 1});
  return grid;
}

// The grid that the dispatch rule (docs/gpu-dispatch.md) is judged on: every path at T = 50 over
// the sizes where the choice between the paths changes (H from 64 to 1024, one sequence to a
// batch of 128, and ensembles at small H). T = 50 keeps the whole grid within about a minute of
// GPU time; per-step times hardly depend on T past a few steps (bench_forward's length grid).
std::vector<ctrnn_bench::Size> dispatch_grid() {
  std::vector<ctrnn_bench::Size> grid;
  for (int64_t H : {64, 128, 256, 384, 512, 768, 1024})
    for (int64_t B : {1, 8, 32, 64, 128}) grid.push_back({H, B, 50, 1});
  for (int64_t H : {64, 128, 256})
    for (int64_t E : {8, 64}) grid.push_back({H, 32, 50, E});
  return grid;
}

void bm_recurrence(benchmark::State& state, const ctrnn_bench::Size& s, RecurrencePath path, Mode mode) {
  try {
    const ctrnn::Config c = ctrnn_bench::make_config(s);
    ctrnn::detail::CudaBackendOptions options;
    options.recurrence.path = path;
    auto backend = ctrnn::detail::make_cuda_backend(c, ctrnn::MathMode::FP32, options);
    auto& orchestrated = dynamic_cast<ctrnn::detail::OrchestratedBackend<ctrnn::detail::CudaPrims>&>(*backend);
    const auto constraints = ctrnn::build_constraints<float>(c);
    backend->set_constraints(constraints);
    backend->set_params(ctrnn::initial_params<float>(c, constraints));
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    const ctrnn::Tensor<float> gy = ctrnn_bench::uniform_tensor({s.E, s.T, s.B, ctrnn_bench::kOutputs}, 12);
    ctrnn::detail::ForwardArgs<float> a;
    a.u = u.data.data(), a.steps = s.T, a.batch = s.B;
    a.dynamics = c.dynamics(false);
    backend->forward(a);  // warm-up, untimed; plans the recurrence
    const RecurrencePlan plan = orchestrated.recurrence_plan();
    const std::string why = "no persistent kernel at this size: " + plan.reason;
    if (mode == Mode::BarrierFloor && plan.path == RecurrencePath::Sequence) return state.SkipWithError(why.c_str());
    const auto run = [&] {
      if (mode == Mode::BarrierFloor) return ctrnn::detail::run_barrier_floor(orchestrated.primitives(), plan, s.E, s.T);
      backend->forward(a);
      if (mode == Mode::Train) backend->backward(gy.data.data(), nullptr);
    };
    run();
    if (!ctrnn_bench::device_sync(ctrnn::Device::Cuda)) return state.SkipWithError("CUDA error after the warm-up");
    for (auto _ : state) {
      run();
      if (!ctrnn_bench::device_sync(ctrnn::Device::Cuda)) return state.SkipWithError("CUDA error");
    }
    state.SetLabel(describe(plan));
    const double flops = mode == Mode::BarrierFloor ? 0.0 : ctrnn_bench::forward_flops(s);
    ctrnn_bench::set_counters(state, s, ctrnn::Device::Cuda, (mode == Mode::Train ? 3.0 : 1.0) * flops);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());  // e.g. a forced path too large for the shared memory
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (ctrnn::cuda_available()) {
    const auto add = [](const char* mode_name, Mode mode, RecurrencePath path, const ctrnn_bench::Size& s) {
      const std::string name = std::string(mode_name) + "/cuda/" + ctrnn::detail::to_string(path) +
                               "/H:" + std::to_string(s.H) + "/B:" + std::to_string(s.B) +
                               "/T:" + std::to_string(s.T) + "/E:" + std::to_string(s.E);
      benchmark::RegisterBenchmark(name.c_str(), [s, path, mode](benchmark::State& st) {
        bm_recurrence(st, s, path, mode);
      })->UseRealTime()->Unit(benchmark::kMillisecond);
    };
    const RecurrencePath paths[] = {RecurrencePath::Auto, RecurrencePath::Sequence, RecurrencePath::PersistentCta,
                                    RecurrencePath::PersistentCluster};
    for (const ctrnn_bench::Size& s : recurrence_grid()) {
      for (RecurrencePath path : paths) add("recurrence_forward", Mode::Forward, path, s);
      for (RecurrencePath path : paths) add("recurrence_train", Mode::Train, path, s);
      add("recurrence_barrier_floor", Mode::BarrierFloor, RecurrencePath::Auto, s);
    }
    for (const ctrnn_bench::Size& s : dispatch_grid()) {
      for (RecurrencePath path : paths) add("recurrence_forward", Mode::Forward, path, s);
      for (RecurrencePath path : paths) add("recurrence_train", Mode::Train, path, s);
    }
  }
  return ctrnn_bench::run_main(argc, argv);
}
