#pragma once
// One training run, as `ctrnn train` runs it, as a library call: a config (train_config.hpp) into
// a run folder (run_folder.hpp: locked, earlier runs refused unless resumed or overwritten),
// resumed from a checkpoint when asked, checkpoints every `checkpoint_every` steps and at the end,
// metrics.csv, validation, progress lines, a stop on request (a signal) after the step under way
// with the checkpoint saved, and the every-network-diverged stop. `ctrnn train`, a sweep's packs
// (sweep.hpp) and Python's `_core.train_run` all call it, so they train the same way.
//
// Bad input (config, checkpoint, folder, options) throws before any step, as the library does
// everywhere (InvalidArgument, FileError, StateError); a write that fails on a good path throws
// WriteError. How the run ended otherwise is the result's status.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ctrnn/device.hpp"
#include "ctrnn/train_config.hpp"

namespace ctrnn {

struct TrainRunOptions {
  // The run's config: a file (`config_path`), or JSON text (`config_text`, with `base_dir` the
  // folder its relative paths are relative to). Both empty: continue `resume_from` with the
  // checkpoint's stored config.
  std::string config_path;
  std::string config_text;
  std::string base_dir = ".";
  DataFiles data;  // replace the config's data files (the CLI's --data, --val-data)

  // Continue this checkpoint (written by a training run); a config given as well must describe
  // the same run (only steps, logging, checkpoint_every, eval_batch_size, validation data and
  // the folder may change; the first difference is named).
  std::string resume_from;
  // Continue the output folder's own checkpoint when it has one, else start fresh (replacing a
  // metrics.csv there: the rows of a start killed before its first checkpoint): what a sweep
  // needs to rerun a pack. Needs a config; ignored when `resume_from` is given.
  bool resume_if_present = false;

  std::string out = "out";
  std::string out_option = "--out";  // how messages name the folder
  bool overwrite = false;            // replace an earlier run's files in `out`
  Device device = Device::Auto;
  int64_t steps = 0;       // total steps; 0: the config's (training.steps)
  int64_t log_every = -1;  // -1: the config's (training.log_every)
  // The CPU backend's threads (OpenBLAS's thread count, process-wide); 0 leaves it as it is.
  int threads = 0;

  // Where the run's lines go: the progress lines (start, step lines, final evaluation, where the
  // files are) and warnings (e.g. a checkpoint computed on another device). Empty: quiet.
  std::function<void(const std::string&)> on_progress;
  std::function<void(const std::string&)> on_warning;
  // Polled after every step: a nonzero value (a signal's number) stops the run after that step,
  // with its checkpoint saved. Empty: never.
  std::function<int()> stop_requested;
};

struct TrainRunResult {
  enum class Status {
    Finished,     // trained to `steps` (or was already there: nothing to do)
    AllDiverged,  // every network diverged (NaN or Inf); the last good checkpoint stays
    Stopped,      // stop_requested() said so; the checkpoint of the last step is saved
  };
  Status status = Status::Finished;
  int stop_signal = 0;   // Stopped: the value stop_requested() returned
  std::string message;   // AllDiverged, Stopped: the one line saying what happened and which checkpoint stays
  int64_t first_step = 0;  // the step the run started (or resumed) from
  int64_t steps_done = 0;  // the step its checkpoint holds when it ended
  std::vector<double> final_loss;  // (E) training loss of the last step taken (empty if none was)
  std::vector<bool> diverged;      // (E) networks that have diverged
  // The final evaluation in eval mode (Finished only; else empty): the validation set, a data
  // task's training set, or eval_batch_size fresh trials; accuracy NaN without choices.
  std::vector<double> eval_loss, eval_accuracy;
  std::string checkpoint, metrics;  // the run folder's files
};

TrainRunResult train_run(const TrainRunOptions& options);

}  // namespace ctrnn
