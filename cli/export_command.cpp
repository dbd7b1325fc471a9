// `ctrnn export-task CONFIG --trials N --out FILE`: a built-in task's trials as a data file
// (dataset.hpp), to train on with --data, to inspect, or to start a data set of one's own from.
#include <iostream>

#include "commands.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/evaluation.hpp"
#include "ctrnn/run_folder.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/train_config.hpp"
#include "options.hpp"

namespace ctrnn::cli {

namespace {

// A (T, B) mask as the data file's (T, B, O).
Tensor<float> per_output(const Tensor<float>& mask, int64_t O) {
  if (mask.rank() != 2) return mask;
  Tensor<float> out({mask.shape[0], mask.shape[1], O});
  for (int64_t k = 0; k < mask.numel(); ++k)
    for (int64_t o = 0; o < O; ++o) out.data[k * O + o] = mask.data[k];
  return out;
}

}  // namespace

int export_task_command(const ExportTaskOptions& o) {
  const TrainConfig tc = read_train_config(o.config);
  const auto task = tc.make_task();
  const int64_t trials = parse_integer(o.trials, "--trials", 1, int64_t(1) << 24);
  const uint64_t seed = o.seed.empty() ? tc.training.data_seed : uint64_t(parse_integer(o.seed, "--seed", 0, INT64_MAX));
  const OutputFile out(o.out, "--out", o.overwrite);
  // The batch index evaluation uses plus one: trials no training run or evaluation draws.
  const TaskBatch b = task->batch(trials, seed, kEvalBatchIndex + 1);
  DataSet d;
  d.u = b.u;
  d.target = b.target;
  d.mask = per_output(b.mask, task->output_dim());
  try {
    d.write(o.out);
  } catch (const FileError& e) {
    throw WriteError(e.what());
  }
  std::cout << "wrote " << o.out << ": " << trials << " trials of task " << task->name() << " (seed " << seed
            << "): u " << shape_to_string(d.u.shape) << ", target " << shape_to_string(d.target.shape)
            << (d.mask.numel() ? ", mask " + shape_to_string(d.mask.shape) : std::string()) << "\n";
  return kSuccess;
}

}  // namespace ctrnn::cli
