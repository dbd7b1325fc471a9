// One full training step: ctrnn::Trainer::step(u, target) = forward, MSE loss (nn4n's RNNLoss
// with its defaults), BPTT, Adam update (lr 1e-3, PyTorch's defaults otherwise), projection, on
// the CPU backend and, when a GPU is present, the CUDA backend. Modes:
//   train_step             the step as Trainer::step runs it (on the GPU: one CUDA graph per step)
//   train_step_ungraphed   GPU only: the same sequence launched kernel by kernel
//                          (CTRNN_CUDA_GRAPHS=0 while the network is built), the cross-check
//   train_step_per_network the step with its values given per network, and tau per network and
//                          neuron (the sizes of issue 20's 5% budget): tau from 50 to 200 over
//                          (E, H); lr, weight_decay, momentum, clip_grad_norm and lambda_mse as
//                          lists of E values equal to train_step's; the noise sigmas as lists of E
//                          zeros (no draws, as train_step): the cost of the per-network forms
//                          alone, against train_step's scalars
//   train_step_noisy       train_step with preact_noise 0.05 (the sweep benchmark's network,
//                          bench/sweep_bench.py): E T B H standard normals drawn per step
//   train_step_learn_tau   train_step_per_network with learn_tau: alpha's gradient (after BPTT:
//                          one pass over dv and v, a column sum, a division) and its update
//                          and clamp, against train_step_per_network
// Sizes, counters and the FLOP model (3x the forward): bench_common.hpp.
#include <cstdlib>
#include <exception>

#include "bench_common.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace {

// tau (E, H) from 50 to 200 and the noise sigmas as per-network lists; the optimizer's values and
// the MSE's lambda as per-network lists of equal values.
ctrnn::Config per_network_config(const ctrnn_bench::Size& s) {
  ctrnn::Config c = ctrnn_bench::make_config(s);
  std::vector<std::vector<double>> tau(static_cast<size_t>(s.E));
  for (int64_t e = 0; e < s.E; ++e)
    for (int64_t h = 0; h < s.H; ++h) tau[size_t(e)].push_back(50.0 + 150.0 * double((h + e) % s.H) / double(s.H));
  c.tau = ctrnn::TimeConstants::each_network_neuron(tau);
  c.preact_noise = c.postact_noise = ctrnn::PerNetwork::each(std::vector<double>(size_t(s.E), 0.0));
  return c;
}
ctrnn::OptimizerConfig per_network_optimizer(const ctrnn_bench::Size& s) {
  ctrnn::OptimizerConfig o;
  auto each = [&](double x) { return ctrnn::PerNetwork::each(std::vector<double>(size_t(s.E), x)); };
  o.lr = each(o.lr[0]), o.weight_decay = each(o.weight_decay[0]), o.clip_grad_norm = each(o.clip_grad_norm[0]);
  o.momentum = each(o.momentum[0]);
  return o;
}

void bm_train_step(benchmark::State& state, const ctrnn_bench::Size& s, ctrnn::Device d, bool graphs,
                   bool per_network = false, bool noisy = false, bool learn_tau = false) {
  try {
    if (!graphs) setenv("CTRNN_CUDA_GRAPHS", "0", 1);  // read when the CUDA backend is made
    ctrnn::Config config = per_network ? per_network_config(s) : ctrnn_bench::make_config(s);
    if (noisy) config.preact_noise = ctrnn::PerNetwork(0.05);
    config.learn_tau = learn_tau;
    ctrnn::Network net(config, d);
    if (!graphs) unsetenv("CTRNN_CUDA_GRAPHS");
    ctrnn::LossWeights weights;
    if (per_network) weights[ctrnn::kMse] = ctrnn::PerNetwork::each(std::vector<double>(size_t(s.E), 1.0));
    ctrnn::Trainer trainer(net, per_network ? per_network_optimizer(s) : ctrnn::OptimizerConfig{}, weights);
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
    state.SetLabel(net.device_description() + (graphs ? "" : ", ungraphed") + (per_network ? ", per network" : "") +
                   (noisy ? ", preact_noise 0.05" : "") + (learn_tau ? ", learn_tau" : ""));
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
  ctrnn_bench::register_all(
      "train_step_per_network",
      [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) { bm_train_step(st, s, d, true, true); },
      {{64, 32, 100, 1}, {64, 32, 100, 64}, {256, 64, 200, 1}});
  ctrnn_bench::register_all(
      "train_step_noisy",
      [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) { bm_train_step(st, s, d, true, false, true); },
      {{64, 32, 100, 1}, {64, 32, 100, 64}, {256, 64, 200, 1}});
  ctrnn_bench::register_all(
      "train_step_learn_tau",
      [](benchmark::State& st, const ctrnn_bench::Size& s, ctrnn::Device d) {
        bm_train_step(st, s, d, true, true, false, true);
      },
      {{64, 32, 100, 1}, {64, 32, 100, 64}, {256, 64, 200, 1}});
  return ctrnn_bench::run_main(argc, argv);
}
