#include "decision_model.hpp"

#include <ctrnn/network.hpp>
#include <ctrnn/tasks.hpp>
#include <ctrnn/trainer.hpp>

#include <numeric>

std::vector<double> train_perceptual_decision(int ensemble_size, int steps) {
  const auto task = ctrnn::make_task(R"({"name": "perceptual_decision"})");
  ctrnn::Config c;
  c.dims = {task->input_dim(), 32, task->output_dim()};
  c.dt = 20;
  c.ensemble_size = ensemble_size;
  c.seed = 1;
  ctrnn::Network net(c);
  ctrnn::OptimizerConfig adam;
  adam.lr = 0.01;
  ctrnn::Trainer trainer(net, adam);

  std::vector<double> losses;
  for (int k = 0; k < steps; ++k) {
    const ctrnn::TaskBatch b = task->batch(16, /*seed=*/1, /*index=*/k);
    const ctrnn::Tensor<float>* mask = b.mask.numel() ? &b.mask : nullptr;
    const ctrnn::LossReport report = trainer.step(b.u, b.target, mask);
    losses.push_back(std::accumulate(report.total.begin(), report.total.end(), 0.0) / report.total.size());
  }
  return losses;
}
