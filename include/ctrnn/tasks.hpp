#pragma once
// Built-in tasks that generate batches on the fly. Batch number k of a task is a pure function of
// (seed, k), so a resumed run sees exactly the batches an uninterrupted one would.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctrnn/tensor.hpp"

namespace ctrnn {

struct TaskBatch {
  Tensor<float> u;       // (T, B, I)
  Tensor<float> target;  // (T, B, O)
  Tensor<float> mask;    // (T, B) loss weights; empty: every step counts
  std::vector<int> label;  // (B) the correct choice, for accuracy; empty for tasks without choices
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual int64_t input_dim() const = 0;
  virtual int64_t output_dim() const = 0;
  virtual int64_t steps() const = 0;
  virtual TaskBatch batch(int64_t batch_size, uint64_t seed, uint64_t index) const = 0;
  // Fraction of trials whose choice (argmax over the outputs averaged over the masked steps) is
  // the label; y is one network's outputs (T, B, O). NaN for tasks without choices.
  virtual double accuracy(const TaskBatch& b, const float* y) const;
};

// From the JSON object of a config's "task" section: {"name": "sine" | "perceptual_decision" |
// "delayed_match", ...parameters}. Unknown keys are errors naming "task.<key>".
std::unique_ptr<Task> make_task(const std::string& json_text);

}  // namespace ctrnn
