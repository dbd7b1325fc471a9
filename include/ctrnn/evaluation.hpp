#pragma once
// Evaluation of a network in eval mode (no noise): on a given batch, on a task's evaluation
// trials, or on the validation trials during training without disturbing the run. What
// `ctrnn train` (train_run), `ctrnn eval` and a sweep's results report.
#include <cstdint>
#include <string>
#include <vector>

#include "ctrnn/tasks.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn {

// Batch index of evaluation data: far beyond any training step, so never a training batch.
inline constexpr uint64_t kEvalBatchIndex = uint64_t(1) << 62;

struct Evaluation {
  std::vector<double> loss;      // (E)
  std::vector<double> accuracy;  // (E), NaN for tasks without choices
};

// Leaves the network in eval mode. Labels are the target's decisions when `with_accuracy` and
// the batch has none of its own.
Evaluation evaluate_batch(Network& net, Trainer& trainer, TaskBatch b, bool with_accuracy);

// A task's evaluation trials: a data-file task's validation set (else its training set), a
// built-in task's `batch_size` fresh trials.
Evaluation evaluate_on_task(Network& net, Trainer& trainer, const Task& task, int64_t batch_size, uint64_t seed);

// The validation set's loss and accuracy in the middle of a training run: the mode, the noise
// stream's position and keep mode's carried state are restored afterwards, so a run with
// validation trains exactly as one without.
Evaluation validate_during_training(Network& net, Trainer& trainer, const Task& task);

// "loss 0.0123 acc 0.91" for one network, or mean/min/max over an ensemble.
std::string summarize(const std::vector<double>& loss, const std::vector<double>& accuracy);

}  // namespace ctrnn
