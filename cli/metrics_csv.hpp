#pragma once
// metrics.csv of a training run: one row per step and network, every row flushed as written (a
// killed run loses none), numbers with 9 significant digits (float32 round trip). Columns:
// step, network, loss, the unweighted loss terms, grad_norm, diverged (1 once the network has
// diverged: frozen, see Trainer::step), val_loss and val_accuracy (on validation steps, else
// empty), elapsed_s.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ctrnn/trainer.hpp"

namespace ctrnn::cli {

struct Validation {
  std::vector<double> loss, accuracy;  // (E); empty when not evaluated at this step
};

class MetricsCsv {
 public:
  // A fresh file, or (resuming at `resume_step` > 0) the existing one without the rows after
  // that step, which the resumed run writes again.
  MetricsCsv(const std::string& path, int64_t resume_step);
  ~MetricsCsv();
  MetricsCsv(const MetricsCsv&) = delete;
  MetricsCsv& operator=(const MetricsCsv&) = delete;

  // Throws OutputError when the row cannot be written.
  void write(int64_t step, const LossReport& r, const Validation& v, double elapsed_s);

 private:
  void put(const std::string& text);
  std::string path_;
  std::FILE* out_ = nullptr;
};

}  // namespace ctrnn::cli
