// train_run: the training loop of `ctrnn train` with progress lines, metrics CSV, validation,
// periodic and final checkpoints, resume (from the checkpoint alone or with a config that must
// agree), networks that diverge reported as such, and a stop when every network has diverged.
#include "ctrnn/training_run.hpp"

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/evaluation.hpp"
#include "ctrnn/run_folder.hpp"
#include "training_run/run_record.hpp"
#ifdef CTRNN_WITH_BLAS
#include "orchestrated/blas_primitives.hpp"
#endif

namespace ctrnn {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace detail;

std::string duration(double seconds) {
  const long s = long(std::lround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// "SIGINT", "SIGTERM", "SIGHUP".
std::string signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(signal);
  }
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

// The last training loss a checkpoint of a training run records (empty when it has none).
std::vector<double> stored_last_loss(const Checkpoint& ck) {
  const auto it = ck.metadata.find("last_loss");
  if (it == ck.metadata.end()) return {};
  const json j = json::parse(it->second, nullptr, false);
  if (!j.is_array()) return {};
  std::vector<double> loss;
  for (const json& x : j) loss.push_back(x.is_number() ? x.get<double>() : NAN);
  return loss;
}

}  // namespace

TrainRunResult train_run(const TrainRunOptions& o) {
  const auto emit = [](const std::function<void(const std::string&)>& f, const std::string& line) {
    if (f) f(line);
  };
  if (o.threads < 0) throw InvalidArgument("threads", "a thread count >= 0 (0: as it is)", std::to_string(o.threads));
  std::string resume = o.resume_from;
  const bool has_config = !o.config_path.empty() || !o.config_text.empty();
  if (resume.empty() && o.resume_if_present && has_config) {
    const std::string own = o.out + "/checkpoint.safetensors";
    std::error_code ec;
    if (std::filesystem::is_regular_file(own, ec)) resume = own;
  }
  std::optional<Checkpoint> ck;
  TrainConfig tc;
  if (!resume.empty()) ck.emplace(load_checkpoint(resume, o.device));
  if (!has_config) {
    if (!ck) throw InvalidArgument("CONFIG", "a config file (or --resume CHECKPOINT)", "none");
    tc = parse_train_config(stored_run_config(*ck), ".", o.data);  // the checkpoint's own run
    tc.network = ck->network.config();
    if (ck->metadata.count("train_config")) tc.text = ck->metadata.at("train_config");
  } else if (!o.config_path.empty()) {
    tc = read_train_config(o.config_path, o.data);
  } else {
    tc = parse_train_config(o.config_text, o.base_dir, o.data);
  }
  const auto task = tc.make_task();
  RunFields identity = run_identity(tc, *task);
  if (ck) {
    const RunFields stored = stored_identity(*ck);
    if (!has_config) {  // the network and settings are the checkpoint's own; the data may have changed
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
  if (o.steps > 0) ts.steps = o.steps;
  if (o.log_every >= 0) ts.log_every = o.log_every;
  // resume_if_present without a checkpoint in the folder: metrics rows there are those of a start
  // of this run killed before its first checkpoint, which this start writes again.
  const bool fresh_start = o.resume_if_present && resume.empty();
  const RunFolder out(o.out, resume, o.overwrite || fresh_start, o.out_option);
#ifdef CTRNN_WITH_BLAS
  if (o.threads > 0) detail::set_blas_thread_count(o.threads);
#endif

  std::optional<Network> net;
  if (ck) {
    net.emplace(std::move(ck->network));
    net->train();
  } else {
    net.emplace(tc.network, o.device);
  }
  Trainer trainer(*net, ts.optimizer, ts.loss);
  if (ck) {
    trainer.restore(*ck->trainer_state);
    for (const std::string& w : ck->warnings) emit(o.on_warning, "warning: " + w);
  }
  TrainRunResult result;
  result.checkpoint = out.checkpoint();
  result.metrics = out.metrics();
  const int64_t first = trainer.steps_done();
  result.first_step = result.steps_done = first;
  result.diverged = trainer.diverged();
  if (first >= ts.steps) {
    if (ck) result.final_loss = stored_last_loss(*ck);
    emit(o.on_progress, "ctrnn train: the checkpoint is at step " + std::to_string(first) + ", nothing to do for " +
                            std::to_string(ts.steps) + " steps");
    return result;
  }
  const std::map<std::string, std::string> extra{{"task", tc.task_json},
                                                 {"data_seed", std::to_string(ts.data_seed)},
                                                 {"eval_batch_size", std::to_string(ts.eval_batch_size)},
                                                 {"train_config", tc.text},
                                                 {kRunMetadataKey, run_metadata(identity, tc)}};
  MetricsCsv metrics(out, first);
  const Config& c = net->config();
  emit(o.on_progress, "ctrnn train: task " + task->name() + " | dims [" + std::to_string(c.dims[0]) + ", " +
                          std::to_string(c.dims[1]) + ", " + std::to_string(c.dims[2]) + "] | E " +
                          std::to_string(c.ensemble_size) + " | " + net->device_description() + " | steps " +
                          std::to_string(first) + " -> " + std::to_string(ts.steps) + " | batch " +
                          std::to_string(ts.batch_size));

  const auto start = Clock::now();
  auto last_log = start;
  // The last checkpoint of this run that loads: the one resumed from until this run saves one.
  int64_t last_saved = first > 0 ? first : -1;
  std::string last_saved_path = resume;
  const auto save = [&](const LossReport& r) {
    out.save(*net, trainer, with_last_loss(extra, r.total));
    last_saved = trainer.steps_done();
    last_saved_path = out.checkpoint();
  };
  const auto ended = [&](TrainRunResult::Status status, const std::string& message) {
    result.status = status;
    result.message = message;
    result.steps_done = std::max<int64_t>(last_saved, 0);
    result.diverged = trainer.diverged();
    return result;
  };
  // Every network has diverged (NonFiniteLoss), or parameters that overflowed to Inf
  // (save_checkpoint refuses them): stop, naming the last checkpoint that was written, which loads.
  const auto stop = [&](const StateError& e) {
    return ended(TrainRunResult::Status::AllDiverged,
                 std::string(e.what()) + "; training stopped. " +
                     (last_saved >= 0 ? "The last good checkpoint is " + last_saved_path + " (step " +
                                            std::to_string(last_saved) + ")"
                                      : std::string("No checkpoint was saved yet")));
  };
  // A stop request: the checkpoint of the last finished step is on disk (`saved`, or saved here).
  const auto interrupted = [&](const LossReport& r, bool saved, int signal) {
    if (!saved) save(r);
    result.stop_signal = signal;
    return ended(TrainRunResult::Status::Stopped,
                 "stopped by " + signal_name(signal) + " after step " + std::to_string(last_saved) +
                     "; checkpoint saved: " + last_saved_path + " (continue with --resume " + last_saved_path + ")");
  };
  for (int64_t step = first; step < ts.steps; ++step) {
    const TaskBatch b = task->batch(ts.batch_size, ts.data_seed, uint64_t(step));
    LossReport r;
    try {
      r = trainer.step(b.u, b.target, b.mask.numel() ? &b.mask : nullptr);
    } catch (const NonFiniteLoss& e) {
      return stop(e);
    }
    result.final_loss = r.total;
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
    if (log && o.on_progress) {
      last_log = now;
      const double rate = double(done - first) / std::max(elapsed, 1e-9);
      std::string line = summarize_step(r, acc);
      if (!val.loss.empty()) line += " | val " + summarize(val.loss, val.accuracy);
      char head[64];
      std::snprintf(head, sizeof head, "step %6lld/%lld | ", (long long)done, (long long)ts.steps);
      char tail[64];
      std::snprintf(tail, sizeof tail, " | %7.1f steps/s | ETA ", rate);
      o.on_progress(head + line + tail + duration(double(ts.steps - done) / rate));
    } else if (log) {
      last_log = now;
    }
    if (const int signal = o.stop_requested ? o.stop_requested() : 0) {
      try {
        return interrupted(r, last_saved == done, signal);
      } catch (const StateError& e) {
        return stop(e);
      }
    }
  }
  result.steps_done = trainer.steps_done();
  result.diverged = trainer.diverged();
  if (c.init_state == InitState::Keep) net->reset_state();  // fresh evaluation trials, any batch size
  const Evaluation ev = evaluate_on_task(*net, trainer, *task, ts.eval_batch_size, ts.data_seed);
  result.eval_loss = ev.loss;
  result.eval_accuracy = ev.accuracy;
  const DataSet* eval_set = task->validation_set() ? task->validation_set() : task->data_set();
  const std::string trials = eval_set ? std::to_string(eval_set->trials()) +
                                            (task->validation_set() ? " validation" : " training") + " trials"
                                      : std::to_string(ts.eval_batch_size) + " fresh trials";
  emit(o.on_progress, "final (eval mode, " + trials + "): " + summarize(ev.loss, ev.accuracy));
  emit(o.on_progress, "checkpoint: " + out.checkpoint());
  emit(o.on_progress, "metrics: " + out.metrics());
  return result;
}

}  // namespace ctrnn
