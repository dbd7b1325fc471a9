#pragma once
// Tasks: built-in ones that generate batches on the fly, or trials from a data file (dataset.hpp).
// Batch number k of a task is a pure function of (seed, k), so a resumed run sees exactly the
// batches an uninterrupted one would.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctrnn/tensor.hpp"

namespace ctrnn {

struct TaskBatch {
  Tensor<float> u;       // (T, B, I)
  Tensor<float> target;  // (T, B, O)
  Tensor<float> mask;    // (T, B) or (T, B, O) loss weights; empty: every step counts
  std::vector<int> label;  // (B) the correct choice, for accuracy; empty for tasks without choices
};

struct DataSet;

// Fraction of a batch's trials whose choice (argmax over the outputs averaged over the masked
// steps) is the label; y is one network's outputs (T, B, O). NaN when the batch has no labels.
double decision_accuracy(const TaskBatch& b, const float* y);

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual int64_t input_dim() const = 0;
  virtual int64_t output_dim() const = 0;
  virtual int64_t steps() const = 0;
  virtual TaskBatch batch(int64_t batch_size, uint64_t seed, uint64_t index) const = 0;
  // Whether batches carry labels (accuracy() is meaningful).
  virtual bool has_choices() const = 0;
  // A data-file task's trials and its validation trials (null when not given); null for
  // built-in tasks, which draw fresh trials instead.
  virtual const DataSet* data_set() const { return nullptr; }
  virtual const DataSet* validation_set() const { return nullptr; }
};

// From the JSON object of a config's "task" section: {"name": "sine" | "perceptual_decision" |
// "delayed_match" | "flip_flop", ...parameters}, or a data file: {"data": "TRAIN.safetensors", "val_data":
// "VAL.safetensors" (optional), "decision_accuracy": true|false (default false)}. Unknown keys
// are errors naming "task.<key>".
std::unique_ptr<Task> make_task(const std::string& json_text);

// Whether the task a section describes has choices (Task::has_choices), without reading data.
bool task_has_choices(const std::string& task_json);

// The task section with "data" and "val_data" paths made absolute, relative to `base_dir` (the
// config's folder), so a checkpoint's copy of it works from anywhere.
std::string resolve_data_paths(const std::string& task_json, const std::string& base_dir);

}  // namespace ctrnn
