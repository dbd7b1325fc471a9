#pragma once
// A training run's output folder (--out): created if missing, refused when it names a file,
// locked for the run's lifetime so that no second run writes into it, and protected against a
// fresh run silently replacing the checkpoint of an earlier one.
#include <string>

namespace ctrnn::cli {

class OutputFolder {
 public:
  // Throws InvalidArgument("--out") when `dir` is a file, is locked by another run, or holds
  // a checkpoint that this run would replace without `overwrite` (`resumed`: the checkpoint
  // the run continues from, which may be replaced); FileError when it is not writable.
  OutputFolder(const std::string& dir, const std::string& resumed, bool overwrite);
  ~OutputFolder();  // releases the lock (the system releases it too if the process dies)
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::string& dir() const { return dir_; }
  std::string checkpoint() const { return dir_ + "/checkpoint.safetensors"; }
  std::string metrics() const { return dir_ + "/metrics.csv"; }

 private:
  std::string dir_;
  int lock_fd_ = -1;
};

}  // namespace ctrnn::cli
