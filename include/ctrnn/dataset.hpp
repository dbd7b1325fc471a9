#pragma once
// Trials from a data file, for training on tasks the built-in generators do not have. A data
// file is safetensors (numpy / Python safetensors can write it) holding, time-major as nn4n's
// inputs:
//   u       (T, N, I)  inputs of N trials
//   target  (T, N, O)  desired outputs
//   mask    (T, N, O)  optional loss weights >= 0 (0: the step does not count), e.g. only the
//                      response period
// Any numeric dtype is read (converted to float32); values must be finite.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctrnn/tasks.hpp"
#include "ctrnn/tensor.hpp"

namespace ctrnn {

struct DataSet {
  std::string path;
  Tensor<float> u, target, mask;  // mask empty when the file has none
  uint64_t fingerprint = 0;       // FNV-1a of shapes and values: recognises the data on resume

  // Throws InvalidArgument naming the file and the tensor for a missing, malformed or
  // inconsistent file.
  static DataSet read(const std::string& path);
  void write(const std::string& path) const;

  int64_t steps() const { return u.shape[0]; }
  int64_t trials() const { return u.shape[1]; }
  int64_t input_dim() const { return u.shape[2]; }
  int64_t output_dim() const { return target.shape[2]; }

  // The trials at `index` (values in [0, trials())) as one batch.
  TaskBatch gather(const std::vector<int64_t>& index) const;
  TaskBatch all() const;
};

// The decision of each trial of a batch: argmax over outputs of the target averaged over its
// masked steps (the response period).
std::vector<int> decision_labels(const TaskBatch& b);

// A task that draws its batches from a data file. Batch k takes positions [k B, (k+1) B) of an
// endless sequence of epochs, each a permutation of the N trials drawn from (seed, epoch): a
// pure function of (seed, k), so runs are reproducible and resume mid-epoch. With
// `decision_accuracy`, accuracy() compares the output's decision with the target's.
std::unique_ptr<Task> make_data_set_task(const std::string& path, const std::string& validation_path,
                                         bool decision_accuracy);

}  // namespace ctrnn
