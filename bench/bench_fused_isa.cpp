// The CPU backend's fused per-element loops (host/orchestrated/host_fused_steps.hpp) on each
// instruction set they are compiled for, inside a whole forward and a whole training step (one
// thread: OPENBLAS_NUM_THREADS=1 is set here): what the run-time choice of
// the widest set buys over the portable loops, by activation (relu: a few operations per neuron,
// tanh: tens). Names: fused_isa/<forward|train_step>/<relu|tanh>/<isa>/H/B/T; a set the CPU lacks
// is skipped. All sets give the same bits (tests/test_blas_backend.cpp, BlasFusedRows).
#include <cstdlib>
#include <exception>
#include <string>

#include "bench_common.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"
#include "orchestrated/host_fused_steps.hpp"

namespace {

using ctrnn::detail::FusedIsa;

void bm_fused(benchmark::State& state, const ctrnn_bench::Size& s, bool train, ctrnn::Activation activation,
              FusedIsa isa) {
  if (!ctrnn::detail::fused_isa_supported(isa)) return state.SkipWithError("this CPU lacks the instruction set");
  const FusedIsa before = ctrnn::detail::fused_isa();
  ctrnn::detail::set_fused_isa(isa);
  try {
    ctrnn::Config config = ctrnn_bench::make_config(s);
    config.activation = activation;
    ctrnn::Network net(config, ctrnn::Device::Cpu);
    ctrnn::Trainer trainer(net, ctrnn::OptimizerConfig{}, ctrnn::LossWeights{});
    const ctrnn::Tensor<float> u = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kInputs}, 11);
    const ctrnn::Tensor<float> target = ctrnn_bench::uniform_tensor({s.T, s.B, ctrnn_bench::kOutputs}, 12);
    for (int warm = 0; warm < 2; ++warm)
      train ? benchmark::DoNotOptimize(trainer.step(u, target)) : benchmark::DoNotOptimize(net.forward(u));
    for (auto _ : state) {
      if (train) {
        ctrnn::LossReport r = trainer.step(u, target);
        benchmark::DoNotOptimize(r.total.data());
      } else {
        ctrnn::ForwardResult<float> out = net.forward(u, ctrnn::ForwardCopy::Nothing);
        benchmark::DoNotOptimize(out.y.data.data());
      }
    }
    state.SetLabel(net.device_description());
    ctrnn_bench::set_counters(state, s, ctrnn::Device::Cpu, (train ? 3 : 1) * ctrnn_bench::forward_flops(s));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  ctrnn::detail::set_fused_isa(before);
}

}  // namespace

int main(int argc, char** argv) {
  setenv("OPENBLAS_NUM_THREADS", "1", 1);  // the CPU backend's thread count (blas_primitives.hpp)
  const std::pair<ctrnn::Activation, const char*> activations[] = {{ctrnn::Activation::ReLU, "relu"},
                                                                   {ctrnn::Activation::Tanh, "tanh"}};
  for (bool train : {false, true})
    for (const ctrnn_bench::Size& s : {ctrnn_bench::Size{64, 32, 100, 1}, ctrnn_bench::Size{256, 64, 200, 1}})
      for (const auto& [activation, act_name] : activations)
        for (FusedIsa isa : {FusedIsa::Portable, FusedIsa::Avx2, FusedIsa::Avx512}) {
          const std::string name = std::string("fused_isa/") + (train ? "train_step/" : "forward/") + act_name + "/" +
                                   ctrnn::detail::fused_isa_name(isa) + "/H:" + std::to_string(s.H) + "/B:" + std::to_string(s.B) +
                                   "/T:" + std::to_string(s.T);
          benchmark::RegisterBenchmark(name.c_str(), [s, train, activation = activation, isa](benchmark::State& st) {
            bm_fused(st, s, train, activation, isa);
          })->UseRealTime()->Unit(benchmark::kMillisecond);
        }
  return ctrnn_bench::run_main(argc, argv);
}
