#pragma once
// SIGINT (Ctrl-C), SIGTERM (a scheduler ending the job) and SIGHUP (a closed terminal) during
// `ctrnn train`: the first asks the run to stop after the step it is computing, so that the loop
// saves the checkpoint, prints one line and exits with 128 + the signal's number; a second one
// ends the process at once with 128 + its number. Files are replaced atomically and metrics rows
// written whole, so neither way damages the folder: the next `--resume` continues it.
#include <string>

namespace ctrnn::cli {

class StopSignals {
 public:
  StopSignals();   // installs the handlers (SA_RESTART: file writes are not interrupted)
  ~StopSignals();  // restores the previous ones
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  int received() const;  // 0, or the number of the first signal
};

}  // namespace ctrnn::cli
