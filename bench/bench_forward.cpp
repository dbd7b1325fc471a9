// Forward pass only: BasicNetwork<float>::forward(u) over the whole sequence, on the CPU backend
// and, when a GPU is present, the CUDA backend (one CUDA graph per call). Modes:
//   forward           y and r stay where they were computed (ForwardCopy::Nothing): the computation
//   forward_copy_yr   forward(u) as a caller gets it by default, y and r copied to the host
//   forward_length    ForwardCopy::Nothing at T = 1, 10, 100, 1000 ((H, B) = (256, 64), E = 1
//                     and 64): the per-call cost against the per-step cost
//   forward_tanh      ForwardCopy::Nothing with tanh neurons (E = 1 sizes of the grid): the cost of
//                     the activation (the fused step with tanh against relu's `forward`)
// Sizes, counters and the FLOP model: bench_common.hpp.
#include <exception>
#include <vector>

#include "bench_common.hpp"
#include "ctrnn/network.hpp"

namespace {

void bm_forward(benchmark::State& state, const ctrnn_bench::Size& s, ctrnn::Device d, ctrnn::ForwardCopy copy,
                ctrnn::Activation activation = ctrnn::Activation::ReLU) {
  try {
    ctrnn::Config config = ctrnn_bench::make_config(s);
    config.activation = activation;
    ctrnn::Network net(config, d);
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    for (int warm = 0; warm < 2; ++warm)  // untimed: the first call runs, the second captures the graph
      benchmark::DoNotOptimize(net.forward(u, copy));
    if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error after the warm-up");
    for (auto _ : state) {
      ctrnn::ForwardResult<float> out = net.forward(u, copy);
      benchmark::DoNotOptimize(out.y.data.data());
      if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error");
    }
    state.SetLabel(net.device_description());  // which backend ran, e.g. "cpu (OpenBLAS 0.3.21, 1 threads)"
    ctrnn_bench::set_counters(state, s, d, ctrnn_bench::forward_flops(s));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using ctrnn::ForwardCopy;
  ctrnn_bench::register_all("forward", [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) {
    bm_forward(st, s, d, ForwardCopy::Nothing);
  });
  ctrnn_bench::register_all("forward_copy_yr", [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) {
    bm_forward(st, s, d, ForwardCopy::OutputsAndRates);
  });
  ctrnn_bench::register_all(
      "forward_length",
      [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) { bm_forward(st, s, d, ForwardCopy::Nothing); },
      ctrnn_bench::length_grid(), /*gpu_only=*/true);
  std::vector<ctrnn_bench::Size> single;
  for (const ctrnn_bench::Size& s : ctrnn_bench::size_grid())
    if (s.E == 1) single.push_back(s);
  ctrnn_bench::register_all(
      "forward_tanh",
      [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) {
        bm_forward(st, s, d, ForwardCopy::Nothing, ctrnn::Activation::Tanh);
      },
      single);
  return ctrnn_bench::run_main(argc, argv);
}
