#pragma once
// Evaluation of a network on a fresh batch of its task, in eval mode (no noise).
#include <cstdint>
#include <string>
#include <vector>

#include "ctrnn/tasks.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn::cli {

// Batch index of evaluation data: far beyond any training step, so never a training batch.
inline constexpr uint64_t kEvalBatchIndex = uint64_t(1) << 62;

struct Evaluation {
  std::vector<double> loss;      // (E)
  std::vector<double> accuracy;  // (E), NaN for tasks without choices
};

// Leaves the network in eval mode.
Evaluation evaluate_on_task(Network& net, Trainer& trainer, const Task& task, int64_t batch_size, uint64_t seed);

// "loss 0.0123 acc 0.91" for one network, or mean/min/max over an ensemble.
std::string summarize(const std::vector<double>& loss, const std::vector<double>& accuracy);

}  // namespace ctrnn::cli
