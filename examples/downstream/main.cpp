// The README's library snippet (forward, backward, one training step), then a short training run
// through a shared library. Exits non-zero when something does not work.
#include <ctrnn/network.hpp>
#include <ctrnn/trainer.hpp>
#include <ctrnn/version.hpp>

#include <cstdio>

#include "decision_model.hpp"

int main() {
  std::printf("ctrnn %s\n", ctrnn::version());

  ctrnn::Config c;                       // nn4n's defaults: dims [1, 100, 1], relu, tau 100, dt 10, ...
  c.dims = {3, 64, 2};
  c.ensemble_size = 8;                   // 8 independent networks, trained together
  ctrnn::Network net(c);                 // Device::Auto: the GPU when present, else the CPU
  const int64_t T = 20, B = 4;
  ctrnn::Tensor<float> u({T, B, 3}, 0.5f);
  auto out = net.forward(u);             // out.y (E, T, B, O), out.r (E, T, B, H)
  auto grads = net.backward(ctrnn::Tensor<float>(out.y.shape, 1.0f));  // BPTT, dL/dy = 1
  ctrnn::Trainer trainer(net, ctrnn::OptimizerConfig{});              // Adam, PyTorch semantics
  ctrnn::Tensor<float> target({T, B, 2}, 0.25f);
  auto report = trainer.step(u, target);                              // per-network loss terms
  std::printf("forward y %s, r %s; one step: loss of network 0 = %g\n", ctrnn::shape_to_string(out.y.shape).c_str(),
              ctrnn::shape_to_string(out.r.shape).c_str(), report.total[0]);
  if (out.y.shape != ctrnn::Shape{8, T, B, 2} || grads.w_hid.size() != 8 * 64 * 64 || report.total.size() != 8) return 1;

  const auto losses = train_perceptual_decision(/*ensemble_size=*/4, /*steps=*/40);
  std::printf("perceptual decision: mean loss %.4f at step 1, %.4f at step %zu\n", losses.front(), losses.back(),
              losses.size());
  return losses.back() < losses.front() ? 0 : 1;
}
