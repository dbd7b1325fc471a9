// `ctrnn train CONFIG.json`: the training loop with progress lines, metrics CSV, periodic and
// final checkpoints, resume, and a stop on a non-finite loss.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/train_config.hpp"
#include "evaluation.hpp"

namespace ctrnn::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Creates the folder and proves it writable, so a bad --out fails before any work.
void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string probe = dir + "/.ctrnn-write-test";
  std::ofstream f(probe);
  if (ec || !f) throw FileError("ctrnn: output folder '" + dir + "' is not writable");
  f.close();
  fs::remove(probe, ec);
}

int64_t parse_positive(const std::string& s, const std::string& flag) {
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw InvalidArgument(flag, "a positive integer", "'" + s + "'");
}

std::string duration(double seconds) {
  const long s = long(std::lround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

class MetricsCsv {
 public:
  MetricsCsv(const std::string& path, bool append) {
    const bool fresh = !append || !fs::exists(path);
    out_.open(path, append ? std::ios::app : std::ios::trunc);
    if (!out_) throw FileError("ctrnn: cannot write '" + path + "'");
    if (fresh) {
      out_ << "step,network,loss";
      for (int k = 0; k < kNumLossTerms; ++k) out_ << "," << kLossTermNames[k];
      out_ << ",grad_norm,elapsed_s\n";
    }
  }
  void write(int64_t step, const LossReport& r, double elapsed) {
    for (size_t e = 0; e < r.total.size(); ++e) {
      out_ << step << "," << e << "," << r.total[e];
      for (double t : r.terms[e]) out_ << "," << t;
      out_ << "," << r.grad_norm[e] << "," << elapsed << "\n";
    }
  }
  void flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

}  // namespace

int train_command(const Args& args) {
  if (args.positional.size() != 1) throw InvalidArgument("CONFIG.json", "exactly one config file", std::to_string(args.positional.size()) + " arguments");
  TrainConfig tc = read_train_config(args.positional[0]);
  const auto task = tc.make_task();
  TrainingSettings& ts = tc.training;
  if (args.has("--steps")) ts.steps = parse_positive(args.get("--steps"), "--steps");
  const Device device = parse_device(args.get("--device", "auto"));
  const std::string out = args.get("--out", "out");
  prepare_output_dir(out);
  const std::string ck_path = out + "/checkpoint.safetensors";

  std::optional<Network> net;
  std::optional<TrainerState<float>> resume_state;
  if (args.has("--resume")) {
    Checkpoint ck = load_checkpoint(args.get("--resume"), device);
    const Config& c = ck.network.config();
    if (c.dims != tc.network.dims || c.ensemble_size != tc.network.ensemble_size)
      throw InvalidArgument("--resume", "a checkpoint of the config's network (same dims and ensemble_size)",
                            "a different network");
    if (!ck.trainer_state) throw InvalidArgument("--resume", "a checkpoint saved during training", "no optimizer state");
    resume_state = std::move(ck.trainer_state);
    net.emplace(std::move(ck.network));
    net->train();
  } else {
    net.emplace(tc.network, device);
  }
  Trainer trainer(*net, ts.optimizer, ts.loss);
  if (resume_state) trainer.restore(*resume_state);
  const int64_t first = trainer.steps_done();
  if (first >= ts.steps) {
    std::cout << "ctrnn train: the checkpoint is at step " << first << ", nothing to do for " << ts.steps << " steps\n";
    return 0;
  }
  const std::map<std::string, std::string> extra{{"task", tc.task_json},
                                                 {"data_seed", std::to_string(ts.data_seed)},
                                                 {"eval_batch_size", std::to_string(ts.eval_batch_size)},
                                                 {"train_config", tc.text}};
  MetricsCsv metrics(out + "/metrics.csv", first > 0);
  const Config& c = net->config();
  std::cout << "ctrnn train: task " << task->name() << " | dims [" << c.dims[0] << ", " << c.dims[1] << ", "
            << c.dims[2] << "] | E " << c.ensemble_size << " | " << net->device_description() << " | steps "
            << first << " -> " << ts.steps << " | batch " << ts.batch_size << "\n"
            << std::flush;

  const auto start = Clock::now();
  auto last_log = start;
  int64_t last_saved = first > 0 ? first : -1;
  for (int64_t step = first; step < ts.steps; ++step) {
    const TaskBatch b = task->batch(ts.batch_size, ts.data_seed, uint64_t(step));
    LossReport r;
    try {
      r = trainer.step(b.u, b.target, b.mask.numel() ? &b.mask : nullptr);
    } catch (const NonFiniteLoss& e) {
      metrics.flush();
      std::cerr << e.what() << "; training stopped. "
                << (last_saved >= 0 ? "The last good checkpoint is " + ck_path + " (step " + std::to_string(last_saved) + ")"
                                    : std::string("No checkpoint was saved yet"))
                << "\n";
      return 3;
    }
    const int64_t done = trainer.steps_done();
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    metrics.write(done, r, elapsed);
    const bool last = done == ts.steps;
    if (ts.checkpoint_every > 0 && done % ts.checkpoint_every == 0 && !last) {
      save_checkpoint(ck_path, *net, &trainer, extra);
      last_saved = done;
    }
    if (last || done == first + 1 || std::chrono::duration<double>(now - last_log).count() >= ts.log_interval_s) {
      last_log = now;
      const Tensor<float> y = net->last_outputs();
      std::vector<double> acc;
      const int64_t per_network = y.numel() / c.ensemble_size;
      for (int64_t e = 0; e < c.ensemble_size; ++e) acc.push_back(task->accuracy(b, &y.data[e * per_network]));
      const double rate = double(done - first) / std::max(elapsed, 1e-9);
      std::printf("step %6lld/%lld | %s | %7.1f steps/s | ETA %s\n", (long long)done, (long long)ts.steps,
                  summarize(r.total, acc).c_str(), rate, duration(double(ts.steps - done) / rate).c_str());
      std::fflush(stdout);
      metrics.flush();
    }
  }
  metrics.flush();
  save_checkpoint(ck_path, *net, &trainer, extra);
  const Evaluation ev = evaluate_on_task(*net, trainer, *task, ts.eval_batch_size, ts.data_seed);
  std::cout << "final (eval mode, " << ts.eval_batch_size << " fresh trials): " << summarize(ev.loss, ev.accuracy) << "\n"
            << "checkpoint: " << ck_path << "\nmetrics: " << out << "/metrics.csv\n";
  return 0;
}

}  // namespace ctrnn::cli
