#pragma once
// The subcommands of the `ctrnn` program, each with its options as parsed by CLI11 (main.cpp).
// Numbers arrive as text and are parsed strictly (options.hpp), so a bad value is refused
// naming the option. Each command returns the process exit code (ExitCode).
#include <string>

namespace ctrnn::cli {

enum ExitCode : int {
  kSuccess = 0,
  kFailure = 1,      // an unexpected failure while running (a bug or a resource limit)
  kBadInput = 2,     // bad usage, a bad config, data file, checkpoint or path
  kNonFiniteLoss = 3,  // training stopped: every network diverged (NaN or Inf loss or update); the last good checkpoint stays
  kIoError = 4,      // output could not be written (disk full, I/O failure)
  // 128 + the signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP): `train` stopped by a signal
  // after saving the checkpoint (stop_signals.hpp).
};

struct TrainOptions {
  std::string config;       // CONFIG.json; may be empty with --resume
  std::string out = "out";
  std::string device = "auto";
  std::string steps, log_every;  // numbers, parsed strictly
  std::string resume;       // CHECKPOINT
  std::string data, val_data;
  bool overwrite = false;
  bool resume_or_start = false;  // continue --out's own checkpoint when it has one, else start fresh
};

struct EvalOptions {
  std::string checkpoint;
  std::string device = "auto";
  std::string batch;  // number, parsed strictly
  std::string data;
  bool reset_state = false;
};

struct InfoOptions {
  std::string checkpoint;
  bool json = false;
};

struct RunOptions {
  std::string source;  // CONFIG.json or CHECKPOINT
  std::string inputs, out;
  std::string device = "auto";
  bool reset_state = false;
  bool overwrite = false;
};

struct ExportTaskOptions {
  std::string config;
  std::string trials;  // number, parsed strictly
  std::string out;
  std::string seed;  // number, parsed strictly; default: the config's data seed
  bool overwrite = false;
};

struct SweepOptions {
  std::string spec;   // SWEEP.json
  std::string out;
  std::string workers;  // number, parsed strictly; default: one per core
  std::string device = "auto";
  std::string ray;      // a Ray cluster's address: the Python package runs the sweep there
};

struct ExtractOptions {
  std::string checkpoint;
  std::string network;  // number, parsed strictly
  std::string out;
  bool overwrite = false;
};

int train_command(const TrainOptions& o);
int sweep_command(const SweepOptions& o);
int extract_command(const ExtractOptions& o);
int eval_command(const EvalOptions& o);
int info_command(const InfoOptions& o);
int run_command(const RunOptions& o);
int export_task_command(const ExportTaskOptions& o);

}  // namespace ctrnn::cli
