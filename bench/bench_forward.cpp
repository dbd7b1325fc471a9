// Forward pass only: BasicNetwork<float>::forward(u) over the whole sequence (it also returns
// the rates r and keeps what backward needs), on the CPU backend and, when a GPU is present, the
// CUDA backend. Sizes, counters and the FLOP model: bench_common.hpp.
#include <exception>

#include "bench_common.hpp"
#include "ctrnn/network.hpp"

namespace {

void bm_forward(benchmark::State& state, const ctrnn_bench::Size& s, ctrnn::Device d) {
  try {
    ctrnn::Network net(ctrnn_bench::make_config(s), d);
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    benchmark::DoNotOptimize(net.forward(u));  // warm-up, untimed
    if (!ctrnn_bench::device_sync(d)) return state.SkipWithError("CUDA error after the warm-up");
    for (auto _ : state) {
      ctrnn::ForwardResult<float> out = net.forward(u);
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
  ctrnn_bench::register_all("forward", bm_forward);
  return ctrnn_bench::run_main(argc, argv);
}
