// The time loop per path (docs/gpu-dispatch.md): the CUDA backend's forward() alone, and forward()
// plus BPTT (backward from a given dL/dy), with the recurrence forced to `sequence`, `cta` or
// `cluster` (the dispatcher's geometry for that path) or left to `auto`. Device results stay on
// the device (no read-back), so this times the loops and the GEMMs around them. A path that
// cannot run at a size is reported as skipped with the dispatcher's reason. Sizes, counters and
// the FLOP model: bench_common.hpp. Names: recurrence_<mode>/cuda/<path>/H:/B:/T:/E:, e.g.
//   bench_recurrence --benchmark_filter='recurrence_forward/cuda/.*/H:256/'
// Needs a GPU (registers nothing without one).
#include <exception>
#include <memory>

#include "bench_common.hpp"
#include "cuda/cuda_backend.hpp"
#include "initialize.hpp"
#include "orchestrated/recurrence_plan.hpp"

namespace {

using ctrnn::detail::RecurrencePath;

void bm_recurrence(benchmark::State& state, const ctrnn_bench::Size& s, RecurrencePath path, bool with_bptt) {
  try {
    const ctrnn::Config c = ctrnn_bench::make_config(s);
    ctrnn::detail::CudaBackendOptions options;
    options.recurrence.path = path;
    auto backend = ctrnn::detail::make_cuda_backend(c, ctrnn::MathMode::FP32, options);
    const auto constraints = ctrnn::build_constraints<float>(c);
    backend->set_constraints(constraints);
    backend->set_params(ctrnn::initial_params<float>(c, constraints));
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    const ctrnn::Tensor<float> gy = ctrnn_bench::uniform_tensor({s.E, s.T, s.B, ctrnn_bench::kOutputs}, 12);
    ctrnn::detail::ForwardArgs<float> a;
    a.u = u.data.data(), a.steps = s.T, a.batch = s.B;
    a.dynamics.alpha = c.alpha();
    a.dynamics.activation = c.activation;
    const auto run = [&] {
      backend->forward(a);
      if (with_bptt) backend->backward(gy.data.data(), nullptr);
    };
    run();  // warm-up, untimed
    if (!ctrnn_bench::device_sync(ctrnn::Device::Cuda)) return state.SkipWithError("CUDA error after the warm-up");
    for (auto _ : state) {
      run();
      if (!ctrnn_bench::device_sync(ctrnn::Device::Cuda)) return state.SkipWithError("CUDA error");
    }
    state.SetLabel(ctrnn::detail::to_string(path));
    ctrnn_bench::set_counters(state, s, ctrnn::Device::Cuda,
                              (with_bptt ? 3.0 : 1.0) * ctrnn_bench::forward_flops(s));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());  // e.g. a forced path too large for the shared memory
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (ctrnn::cuda_available())
    for (bool with_bptt : {false, true})
      for (RecurrencePath path : {RecurrencePath::Auto, RecurrencePath::Sequence, RecurrencePath::PersistentCta,
                                  RecurrencePath::PersistentCluster})
        for (const ctrnn_bench::Size& s : ctrnn_bench::size_grid()) {
          const std::string name = std::string(with_bptt ? "recurrence_train/cuda/" : "recurrence_forward/cuda/") +
                                   ctrnn::detail::to_string(path) + "/H:" + std::to_string(s.H) +
                                   "/B:" + std::to_string(s.B) + "/T:" + std::to_string(s.T) +
                                   "/E:" + std::to_string(s.E);
          benchmark::RegisterBenchmark(name.c_str(), [s, path, with_bptt](benchmark::State& st) {
            bm_recurrence(st, s, path, with_bptt);
          })->UseRealTime()->Unit(benchmark::kMillisecond);
        }
  return ctrnn_bench::run_main(argc, argv);
}
