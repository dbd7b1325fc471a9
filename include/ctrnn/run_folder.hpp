#pragma once
// The output policy of everything that writes a training run or an output file: `ctrnn train`,
// `ctrnn run`, `ctrnn export-task` and Python's `Trainer.fit(out=...)` all go through here, so
// one set of rules holds for all of them:
//   - a run folder is locked (an exclusive flock on FOLDER/.ctrnn.lock) for the run's lifetime;
//     a second run, or a command writing a file into a locked folder, is refused;
//   - an earlier run's files (checkpoint.safetensors, metrics.csv) are replaced only with the
//     overwrite flag, except that a run continuing the folder's own checkpoint keeps both (the
//     metrics rows up to the step it continues from);
//   - a path that cannot hold the output (empty, a file where a folder is needed, a folder, pipe
//     or symbolic link where the checkpoint goes, a name too long, a symbolic-link loop, a
//     folder that is not writable) is refused before any work, naming the option;
//   - files are written atomically (save_checkpoint, SafetensorsFile::write) or row by row
//     (MetricsCsv), so an interrupted run leaves a folder that the same call continues.
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn {

class RunFolder {
 public:
  // `dir`: the folder (created when missing); `resumed`: the checkpoint the run continues from
  // ("" for a fresh run); `overwrite`: replace an earlier run's files; `option`: how messages
  // name the folder ("--out" for the CLI, "out" for Python). Throws InvalidArgument(option),
  // naming the cause, for a path that cannot be a run folder (it cannot be created or written,
  // or its checkpoint path is not a regular file), a folder locked by another run, or an
  // earlier run's files without `overwrite`.
  RunFolder(const std::string& dir, const std::string& resumed, bool overwrite, const std::string& option);
  ~RunFolder();  // releases the lock (the system releases it too if the process dies)
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& dir() const { return dir_; }
  std::string checkpoint() const { return dir_ + "/checkpoint.safetensors"; }
  std::string metrics() const { return dir_ + "/metrics.csv"; }
  // True when the run continues the folder's own checkpoint: its metrics rows are kept.
  bool continues_checkpoint() const { return continues_; }

  // save_checkpoint into checkpoint(); a write failure (full disk, I/O error) is a WriteError.
  void save(const Network& net, const Trainer& trainer, const std::map<std::string, std::string>& extra = {}) const;

 private:
  std::string dir_;
  bool continues_ = false;
  int lock_fd_ = -1;
};

// Checks, before any work, that `path` may receive a command's output file: not empty, in an
// existing writable folder that no run has locked, not a folder, pipe or link, and not an
// existing file unless `overwrite`. Holds that folder's lock (when it has one) until destroyed,
// so that no run starts in it meanwhile. Throws InvalidArgument(option) naming the problem.
class OutputFile {
 public:
  OutputFile(const std::string& path, const std::string& option, bool overwrite);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  const std::string& path() const { return path_; }
  bool existed() const { return existed_; }

 private:
  std::string path_;
  bool existed_ = false;
  int lock_fd_ = -1;
};

// metrics.csv of a training run: one row per step and network, every row flushed as written (a
// killed run loses none), numbers with 9 significant digits (float32 round trip). Columns:
// step, network, loss, the unweighted loss terms, grad_norm, diverged (1 once the network has
// diverged: frozen, see Trainer::step), val_loss and val_accuracy (on validation steps, else
// empty), elapsed_s.
class MetricsCsv {
 public:
  struct Validation {
    std::vector<double> loss, accuracy;  // (E); empty when not evaluated at this step; NaN: no accuracy
  };

  // A fresh file, or (when `folder` continues its own checkpoint, at step `resume_step`) the
  // existing one without the rows after that step, which the resumed run writes again.
  MetricsCsv(const RunFolder& folder, int64_t resume_step);
  ~MetricsCsv();
  MetricsCsv(const MetricsCsv&) = delete;
  MetricsCsv& operator=(const MetricsCsv&) = delete;

  // Throws WriteError when the row cannot be written.
  void write(int64_t step, const LossReport& r, const Validation& v, double elapsed_s);

 private:
  void put(const std::string& text);
  std::string path_;
  std::FILE* out_ = nullptr;
};

}  // namespace ctrnn
