// `ctrnn train`: the library's training run (ctrnn/training_run.hpp) with its progress lines on
// stdout, warnings and the line saying why it stopped on stderr, stop signals (stop_signals.hpp),
// and how it ended as the exit code.
#include <iostream>

#include "commands.hpp"
#include "ctrnn/training_run.hpp"
#include "options.hpp"
#include "stop_signals.hpp"

namespace ctrnn::cli {

int train_command(const TrainOptions& o) {
  TrainRunOptions run;
  run.device = parse_device(o.device);
  constexpr int64_t kMaxSteps = int64_t(1) << 53;
  run.steps = o.steps.empty() ? 0 : parse_integer(o.steps, "--steps", 1, kMaxSteps);
  run.log_every = o.log_every.empty() ? -1 : parse_integer(o.log_every, "--log-every", 0, kMaxSteps);
  const StopSignals signals;
  run.config_path = o.config;
  run.data = DataFiles{o.data, o.val_data, "--data", "--val-data"};
  run.resume_from = o.resume;
  run.resume_if_present = o.resume_or_start;
  run.out = o.out;
  run.overwrite = o.overwrite;
  run.on_progress = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
  run.on_warning = [](const std::string& line) { std::cerr << printable_message(line) << "\n"; };
  run.stop_requested = [&signals] { return signals.received(); };
  const TrainRunResult r = train_run(run);
  switch (r.status) {
    case TrainRunResult::Status::Finished:
      return kSuccess;
    case TrainRunResult::Status::AllDiverged:
      std::cerr << printable_message(r.message) << "\n";
      return kNonFiniteLoss;
    case TrainRunResult::Status::Stopped:
      std::cerr << printable_message(r.message) << "\n";
      return 128 + r.stop_signal;
  }
  return kFailure;
}

}  // namespace ctrnn::cli
