// `ctrnn train`: the training loop with progress lines, metrics CSV, validation, periodic and
// final checkpoints, resume (from the checkpoint alone or with a config that must agree), networks
// that diverge reported as such, and a stop when every network has diverged.
#include <chrono>
#include <cmath>
#include <cstdio>
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
#include "ctrnn/run_folder.hpp"
#include "options.hpp"
#include "run_record.hpp"
#include "stop_signals.hpp"

namespace ctrnn::cli {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string duration(double seconds) {
  const long s = long(std::lround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// The checkpoint's metadata with the loss of the step it holds.
std::map<std::string, std::string> with_last_loss(std::map<std::string, std::string> extra,
                                                  const std::vector<double>& last_loss) {
  extra["last_loss"] = json(last_loss).dump();
  return extra;
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
  const StopSignals signals;
  const DataFiles data_options{o.data, o.val_data, "--data", "--val-data"};
  std::optional<Checkpoint> ck;
  TrainConfig tc;
  if (!o.resume.empty()) ck.emplace(load_checkpoint(o.resume, device));
  if (o.config.empty()) {
    if (!ck) throw InvalidArgument("CONFIG", "a config file (or --resume CHECKPOINT)", "none");
    tc = parse_train_config(stored_run_config(*ck), ".", data_options);  // the checkpoint's own run
    tc.network = ck->network.config();
    if (ck->metadata.count("train_config")) tc.text = ck->metadata.at("train_config");
  } else {
    tc = read_train_config(o.config, data_options);
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
  const RunFolder out(o.out, o.resume, o.overwrite, "--out");

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
    for (const std::string& w : ck->warnings) std::cerr << printable_message("warning: " + w) << "\n";
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
  MetricsCsv metrics(out, first);
  const Config& c = net->config();
  std::cout << "ctrnn train: task " << task->name() << " | dims [" << c.dims[0] << ", " << c.dims[1] << ", "
            << c.dims[2] << "] | E " << c.ensemble_size << " | " << net->device_description() << " | steps "
            << first << " -> " << ts.steps << " | batch " << ts.batch_size << "\n"
            << std::flush;

  const auto start = Clock::now();
  auto last_log = start;
  // The last checkpoint of this run that loads: the one resumed from until this run saves one.
  int64_t last_saved = first > 0 ? first : -1;
  std::string last_saved_path = o.resume;
  const auto save = [&](const LossReport& r) {
    out.save(*net, trainer, with_last_loss(extra, r.total));
    last_saved = trainer.steps_done();
    last_saved_path = out.checkpoint();
  };
  // Every network has diverged (NonFiniteLoss), or parameters that overflowed to Inf
  // (save_checkpoint refuses them): stop, naming the last checkpoint that was written, which loads.
  const auto stop = [&](const StateError& e) {
    std::cerr << printable_message(std::string(e.what()) + "; training stopped. " +
                                   (last_saved >= 0 ? "The last good checkpoint is " + last_saved_path + " (step " +
                                                          std::to_string(last_saved) + ")"
                                                    : std::string("No checkpoint was saved yet")))
              << "\n";
    return kNonFiniteLoss;
  };
  // A stop signal: the checkpoint of the last finished step is on disk (`saved`, or saved here).
  const auto interrupted = [&](const LossReport& r, bool saved) {
    if (!saved) save(r);
    std::cerr << printable_message("stopped by " + signal_name(signals.received()) + " after step " +
                                   std::to_string(last_saved) + "; checkpoint saved: " + last_saved_path +
                                   " (continue with --resume " + last_saved_path + ")")
              << "\n";
    return 128 + signals.received();
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
    MetricsCsv::Validation val;
    if (log && task->validation_set()) {
      const Evaluation ev = validate_during_training(*net, trainer, *task);
      val.loss = ev.loss;
      if (task->has_choices()) val.accuracy = ev.accuracy;
    }
    metrics.write(done, r, val, elapsed);
    if ((ts.checkpoint_every > 0 && done % ts.checkpoint_every == 0) || last) {
      try {
        save(r);
      } catch (const StateError& e) {
        return stop(e);
      }
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
    if (signals.received()) {
      try {
        return interrupted(r, last_saved == done);
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
