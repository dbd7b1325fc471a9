// `ctrnn train`: the training loop with progress lines, metrics CSV, validation, periodic and
// final checkpoints, resume (from the checkpoint alone or with a config that must agree), networks
// that diverge reported as such, and a stop when every network has diverged.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/train_config.hpp"
#include "evaluation.hpp"
#include "metrics_csv.hpp"
#include "options.hpp"
#include "output_folder.hpp"
#include "run_record.hpp"

namespace ctrnn::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string duration(double seconds) {
  const long s = long(std::lround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

std::string folder_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// The config text with --data / --val-data replacing its task's data: a data-file task keeps
// its other keys; a built-in task becomes a data-file task that reports decision accuracy when
// the built-in one has choices.
TrainConfig with_data_options(const TrainConfig& tc, const std::string& base_dir, const TrainOptions& o) {
  if (o.data.empty() && o.val_data.empty()) return tc;
  json config = json::parse(tc.text);
  json task = config.contains("task") ? config["task"] : json::object();
  if (!task.contains("data")) {
    if (o.data.empty())
      throw InvalidArgument("--val-data", "training data too (--data, or a config whose task has \"data\")",
                            "a built-in task");
    bool choices = false;
    if (!tc.task_json.empty()) choices = tc.make_task()->has_choices();
    task = json{{"decision_accuracy", choices}};
  }
  if (!o.data.empty()) task["data"] = fs::absolute(o.data).string();
  if (!o.val_data.empty()) task["val_data"] = fs::absolute(o.val_data).string();
  config["task"] = task;
  return parse_train_config(config.dump(), base_dir);
}

// Writes a checkpoint; a failure here is an output problem, not bad input.
void save(const std::string& path, const Network& net, const Trainer& trainer, std::map<std::string, std::string> extra,
          const std::vector<double>& last_loss) {
  extra["last_loss"] = json(last_loss).dump();
  try {
    save_checkpoint(path, net, &trainer, extra);
  } catch (const FileError& e) {
    throw OutputError(std::string(e.what()) + " (checkpoint not saved)");
  }
}

// The progress line's summary of a step: loss (and accuracy) over the networks still training, and
// how many have diverged.
std::string summarize_step(const LossReport& r, const std::vector<double>& acc) {
  std::vector<double> loss, live_acc;
  for (size_t e = 0; e < r.total.size(); ++e) {
    if (r.diverged[e]) continue;
    loss.push_back(r.total[e]);
    if (!acc.empty()) live_acc.push_back(acc[e]);
  }
  std::string line = summarize(loss, live_acc);
  if (loss.size() < r.total.size())
    line += " | diverged " + std::to_string(r.total.size() - loss.size()) + "/" + std::to_string(r.total.size());
  return line;
}

// The decision accuracy of the last training step's outputs, per network (empty without choices).
std::vector<double> accuracies(const Network& net, const Task& task, const TaskBatch& b) {
  std::vector<double> acc;
  if (!task.has_choices()) return acc;
  const Tensor<float> y = net.last_outputs();
  const int64_t per_network = y.numel() / net.ensemble_size();
  for (int64_t e = 0; e < net.ensemble_size(); ++e) acc.push_back(decision_accuracy(b, &y.data[e * per_network]));
  return acc;
}

}  // namespace

int train_command(const TrainOptions& o) {
  const Device device = parse_device(o.device);
  constexpr int64_t kMaxSteps = int64_t(1) << 53;
  const int64_t steps = o.steps.empty() ? 0 : parse_integer(o.steps, "--steps", 1, kMaxSteps);
  const int64_t log_every = o.log_every.empty() ? -1 : parse_integer(o.log_every, "--log-every", 0, kMaxSteps);
  std::optional<Checkpoint> ck;
  TrainConfig tc;
  if (!o.resume.empty()) {
    ck.emplace(load_checkpoint(o.resume, device));
    if (o.config.empty()) {  // the checkpoint's own run
      TrainConfig run = parse_train_config(stored_run_config(*ck));
      run.text = stored_run_config(*ck);
      tc = with_data_options(run, ".", o);
      tc.network = ck->network.config();
      if (ck->metadata.count("train_config")) tc.text = ck->metadata.at("train_config");
    } else {
      tc = with_data_options(read_train_config(o.config), folder_of(o.config), o);
    }
  } else {
    if (o.config.empty()) throw InvalidArgument("CONFIG", "a config file (or --resume CHECKPOINT)", "none");
    tc = with_data_options(read_train_config(o.config), folder_of(o.config), o);
  }
  const auto task = tc.make_task();
  RunFields identity = run_identity(tc, *task);
  if (ck) {
    const RunFields stored = stored_identity(*ck);
    if (o.config.empty()) {  // the network and settings are the checkpoint's own; the data may have changed
      RunFields data;
      for (const auto& f : identity)
        if (f.first.rfind("task.", 0) == 0) data.push_back(f);
      check_same_run(stored, data, "the data now has");
    } else {
      check_same_run(stored, identity, "the config has");
    }
    identity = stored;  // grown masks change the network's config, not the run
  }
  TrainingSettings& ts = tc.training;
  if (steps > 0) ts.steps = steps;
  if (log_every >= 0) ts.log_every = log_every;
  const OutputFolder out(o.out, o.resume, o.overwrite);

  std::optional<Network> net;
  if (ck) {
    net.emplace(std::move(ck->network));
    net->train();
  } else {
    net.emplace(tc.network, device);
  }
  Trainer trainer(*net, ts.optimizer, ts.loss);
  if (ck) {
    trainer.restore(*ck->trainer_state);
    for (const std::string& w : ck->warnings) std::cerr << "ctrnn: warning: " << w << "\n";
  }
  const int64_t first = trainer.steps_done();
  if (first >= ts.steps) {
    std::cout << "ctrnn train: the checkpoint is at step " << first << ", nothing to do for " << ts.steps << " steps\n";
    return kSuccess;
  }
  const std::map<std::string, std::string> extra{{"task", tc.task_json},
                                                 {"data_seed", std::to_string(ts.data_seed)},
                                                 {"eval_batch_size", std::to_string(ts.eval_batch_size)},
                                                 {"train_config", tc.text},
                                                 {kRunMetadataKey, run_metadata(identity, tc)}};
  MetricsCsv metrics(out.metrics(), first);
  const Config& c = net->config();
  std::cout << "ctrnn train: task " << task->name() << " | dims [" << c.dims[0] << ", " << c.dims[1] << ", "
            << c.dims[2] << "] | E " << c.ensemble_size << " | " << net->device_description() << " | steps "
            << first << " -> " << ts.steps << " | batch " << ts.batch_size << "\n"
            << std::flush;

  const auto start = Clock::now();
  auto last_log = start;
  int64_t last_saved = first > 0 ? first : -1;
  // Every network has diverged (NonFiniteLoss), or state that save_checkpoint refuses: stop,
  // naming the last checkpoint that was written, which loads.
  const auto stop = [&](const StateError& e) {
    std::cerr << e.what() << "; training stopped. "
              << (last_saved >= 0 ? "The last good checkpoint is " + out.checkpoint() + " (step " + std::to_string(last_saved) + ")"
                                  : std::string("No checkpoint was saved yet"))
              << "\n";
    return kNonFiniteLoss;
  };
  for (int64_t step = first; step < ts.steps; ++step) {
    const TaskBatch b = task->batch(ts.batch_size, ts.data_seed, uint64_t(step));
    LossReport r;
    try {
      r = trainer.step(b.u, b.target, b.mask.numel() ? &b.mask : nullptr);
    } catch (const NonFiniteLoss& e) {
      return stop(e);
    }
    const int64_t done = trainer.steps_done();
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    const bool last = done == ts.steps;
    const bool log = last || done == first + 1 ||
                     (ts.log_every > 0 ? done % ts.log_every == 0
                                       : std::chrono::duration<double>(now - last_log).count() >= ts.log_interval_s);
    const std::vector<double> acc = log ? accuracies(*net, *task, b) : std::vector<double>();
    Validation val;
    if (log && task->validation_set()) {
      const Evaluation ev = validate_during_training(*net, trainer, *task);
      val.loss = ev.loss;
      if (task->has_choices()) val.accuracy = ev.accuracy;
    }
    metrics.write(done, r, val, elapsed);
    if (ts.checkpoint_every > 0 && done % ts.checkpoint_every == 0 && !last) {
      try {
        save(out.checkpoint(), *net, trainer, extra, r.total);
      } catch (const StateError& e) {
        return stop(e);
      }
      last_saved = done;
    }
    if (log) {
      last_log = now;
      const double rate = double(done - first) / std::max(elapsed, 1e-9);
      std::string line = summarize_step(r, acc);
      if (!val.loss.empty()) line += " | val " + summarize(val.loss, val.accuracy);
      std::printf("step %6lld/%lld | %s | %7.1f steps/s | ETA %s\n", (long long)done, (long long)ts.steps, line.c_str(),
                  rate, duration(double(ts.steps - done) / rate).c_str());
      std::fflush(stdout);
    }
    if (last) {
      try {
        save(out.checkpoint(), *net, trainer, extra, r.total);
      } catch (const StateError& e) {
        return stop(e);
      }
    }
  }
  if (c.init_state == InitState::Keep) net->reset_state();  // fresh evaluation trials, any batch size
  const Evaluation ev = evaluate_on_task(*net, trainer, *task, ts.eval_batch_size, ts.data_seed);
  const DataSet* eval_set = task->validation_set() ? task->validation_set() : task->data_set();
  const std::string trials = eval_set ? std::to_string(eval_set->trials()) + (task->validation_set() ? " validation" : " training") + " trials"
                                      : std::to_string(ts.eval_batch_size) + " fresh trials";
  std::cout << "final (eval mode, " << trials << "): " << summarize(ev.loss, ev.accuracy) << "\n"
            << "checkpoint: " << out.checkpoint() << "\nmetrics: " << out.metrics() << "\n";
  return kSuccess;
}

}  // namespace ctrnn::cli
