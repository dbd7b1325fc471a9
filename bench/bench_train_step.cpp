// One full training step: ctrnn::Trainer::step(u, target) = forward, MSE loss (nn4n's RNNLoss
// with its defaults), BPTT, Adam update (lr 1e-3, PyTorch's defaults otherwise), projection, on
// the CPU backend and, when a GPU is present, the CUDA backend. Sizes, counters and the FLOP
// model (3x the forward): bench_common.hpp.
#include <exception>

#include "bench_common.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace {

void bm_train_step(benchmark::State& state, const ctrnn_bench::Size& s, ctrnn::Device d) {
  try {
    ctrnn::Network net(ctrnn_bench::make_config(s), d);
    ctrnn::Trainer trainer(net, ctrnn::OptimizerConfig{});
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    const ctrnn::Tensor<float> target = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kOutputs}, 12);
    benchmark::DoNotOptimize(trainer.step(u, target));  // warm-up, untimed
    if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error after the warm-up");
    for (auto _ : state) {
      ctrnn::LossReport r = trainer.step(u, target);
      benchmark::DoNotOptimize(r.total.data());
      if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error");
    }
    state.SetLabel(net.device_description());  // which backend ran, e.g. "cpu (OpenBLAS 0.3.21, 1 threads)"
    ctrnn_bench::set_counters(state, s, d, 3 * ctrnn_bench::forward_flops(s));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  ctrnn_bench::register_all("train_step", bm_train_step);
  return ctrnn_bench::run_main(argc, argv);
}
