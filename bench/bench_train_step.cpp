// One full training step: ctrnn::Trainer::step(u, target) = forward, MSE loss (nn4n's RNNLoss
// with its defaults), BPTT, Adam update (lr 1e-3, PyTorch's defaults otherwise), projection, on
// the CPU backend and, when a GPU is present, the CUDA backend. Modes:
//   train_step             the step as Trainer::step runs it (on the GPU: one CUDA graph per step)
//   train_step_ungraphed   GPU only: the same sequence launched kernel by kernel
//                          (CTRNN_CUDA_GRAPHS=0 while the network is built), the cross-check
// Sizes, counters and the FLOP model (3x the forward): bench_common.hpp.
#include <cstdlib>
#include <exception>

#include "bench_common.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace {

void bm_train_step(benchmark::State& state, const ctrnn_bench::Size& s, ctrnn::Device d, bool graphs) {
  try {
    if (!graphs) setenv("CTRNN_CUDA_GRAPHS", "0", 1);  // read when the CUDA backend is made
    ctrnn::Network net(ctrnn_bench::make_config(s), d);
    if (!graphs) unsetenv("CTRNN_CUDA_GRAPHS");
    ctrnn::Trainer trainer(net, ctrnn::OptimizerConfig{});
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    const ctrnn::Tensor<float> target = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kOutputs}, 12);
    for (int warm = 0; warm < 3; ++warm)  // untimed: step 1's key, then step 2's run and captured
      benchmark::DoNotOptimize(trainer.step(u, target));
    if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error after the warm-up");
    for (auto _ : state) {
      ctrnn::LossReport r = trainer.step(u, target);
      benchmark::DoNotOptimize(r.total.data());
      if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error");
    }
    state.SetLabel(net.device_description() + (graphs ? "" : ", ungraphed"));
    ctrnn_bench::set_counters(state, s, d, 3 * ctrnn_bench::forward_flops(s));
  } catch (const std::exception& e) {
    unsetenv("CTRNN_CUDA_GRAPHS");
    state.SkipWithError(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  ctrnn_bench::register_all("train_step", [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) {
    bm_train_step(st, s, d, true);
  });
  ctrnn_bench::register_all(
      "train_step_ungraphed",
      [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) { bm_train_step(st, s, d, false); },
      ctrnn_bench::size_grid(), /*gpu_only=*/true);
  return ctrnn_bench::run_main(argc, argv);
}
