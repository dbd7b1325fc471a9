#pragma once
// A training run's config file: the network's parameters under the seed's names (see
// config_json.hpp) plus three sections:
//   "task":     {"name": "sine" | "perceptual_decision" | "delayed_match", ...task parameters}
//               or {"data": "TRAIN.safetensors", "val_data": ..., "decision_accuracy": ...}
//               (tasks.hpp; paths relative to the config's folder)
//   "training": {"steps", "batch_size", "optimizer": "adam" | "sgd", "lr", "betas": [b1, b2],
//                "eps", "momentum", "weight_decay", "clip_grad_norm", "log_interval_s", "log_every",
//                "checkpoint_every", "eval_batch_size", "data_seed"}
//   "loss":     {"lambda_mse", "lambda_in", "lambda_hid", "lambda_out", "lambda_fr",
//                "lambda_fr_sd", "lambda_fr_cv"}
// lr, momentum, weight_decay, clip_grad_norm and each lambda are a number (every network) or
// {"per_network": [one number per network of the ensemble]} (PerNetwork). Unknown keys anywhere
// are errors naming the key. Without "dims", I and O come from the task and H is 100; with "dims",
// I and O must match the task.
#include <cstdint>
#include <memory>
#include <string>

#include "ctrnn/config.hpp"
#include "ctrnn/loss.hpp"
#include "ctrnn/optimizer.hpp"
#include "ctrnn/tasks.hpp"

namespace ctrnn {

struct TrainingSettings {
  int64_t steps = 1000;
  int64_t batch_size = 32;
  OptimizerConfig optimizer;
  LossWeights loss;
  double log_interval_s = 2.0;   // a progress line at least this often
  int64_t log_every = 0;         // a progress line and validation every N steps (0: by log_interval_s)
  int64_t checkpoint_every = 500;  // steps between periodic checkpoints (0: only at the end)
  int64_t eval_batch_size = 256;
  uint64_t data_seed = 0;        // the task's batches; defaults to the network's seed
};

struct TrainConfig {
  Config network;
  std::string task_json;  // empty when the file has no "task" (fine for `ctrnn run`)
  TrainingSettings training;
  std::string text;       // the file as given, kept in checkpoints so a run can resume

  std::unique_ptr<Task> make_task() const;  // throws InvalidArgument("task") when there is none
};

// Data files that replace the config's before it is parsed (the CLI's --data and --val-data),
// so that a file the config names but that has moved is never read. Paths relative to the
// current folder. A built-in task given `data` becomes a data-file task that reports decision
// accuracy when the built-in one has choices; `val_data` alone needs a data-file task.
struct DataFiles {
  std::string data, val_data;
  // How messages name them (the CLI: "--data", "--val-data").
  std::string data_name = "data", val_data_name = "val_data";
};

// base_dir: the folder that array "file" references are relative to. With `replace`, the
// result's `text` is the config as changed.
TrainConfig parse_train_config(const std::string& json_text, const std::string& base_dir = ".",
                               const DataFiles& replace = {});
// Throws FileError when unreadable, not a regular file or larger than 64 MiB.
TrainConfig read_train_config(const std::string& path, const DataFiles& replace = {});

}  // namespace ctrnn
