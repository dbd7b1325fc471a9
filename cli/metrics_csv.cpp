#include "metrics_csv.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ctrnn/safetensors.hpp"
#include "options.hpp"

namespace ctrnn::cli {

namespace {

std::string header() {
  std::string h = "step,network,loss";
  for (int k = 0; k < kNumLossTerms; ++k) h += std::string(",") + kLossTermNames[k];
  return h + ",grad_norm,diverged,val_loss,val_accuracy,elapsed_s\n";
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

}  // namespace

MetricsCsv::MetricsCsv(const std::string& path, int64_t resume_step) : path_(path) {
  std::string kept = header();
  if (resume_step > 0) {
    std::ifstream in(path);
    std::string line;
    if (std::getline(in, line) && line + "\n" == kept)
      while (std::getline(in, line))
        if (!line.empty() && std::strtoll(line.c_str(), nullptr, 10) <= resume_step) kept += line + "\n";
  }
  out_ = std::fopen(path.c_str(), "w");
  if (!out_) throw FileError("ctrnn: cannot write '" + path + "': " + std::strerror(errno));
  put(kept);
}

MetricsCsv::~MetricsCsv() {
  if (out_) std::fclose(out_);
}

void MetricsCsv::put(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size() || std::fflush(out_) != 0)
    throw OutputError("ctrnn: I/O error writing '" + path_ + "': " + std::strerror(errno));
}

void MetricsCsv::write(int64_t step, const LossReport& r, const Validation& v, double elapsed_s) {
  std::string rows;
  for (size_t e = 0; e < r.total.size(); ++e) {
    rows += std::to_string(step) + "," + std::to_string(e) + "," + number(r.total[e]);
    for (double t : r.terms[e]) rows += "," + number(t);
    rows += "," + number(r.grad_norm[e]) + "," + (r.diverged[e] ? "1" : "0") + ",";
    if (!v.loss.empty()) rows += number(v.loss[e]);
    rows += ",";
    if (!v.accuracy.empty() && !std::isnan(v.accuracy[e])) rows += number(v.accuracy[e]);
    rows += "," + number(elapsed_s) + "\n";
  }
  put(rows);
}

}  // namespace ctrnn::cli
