#include "ctrnn/train_config.hpp"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "config_json_context.hpp"
#include "ctrnn/error.hpp"
#include "input_file.hpp"
#include "json_input.hpp"
#include "per_network_json.hpp"

namespace ctrnn {

using nlohmann::json;
using detail::brief;

namespace {

// Far above any config with inline arrays that a person would write; larger arrays belong in
// safetensors files ({"file": ..., "tensor": ...}).
constexpr uint64_t kMaxConfigBytes = 64 << 20;

double number(const json& v, const std::string& key) {
  if (!v.is_number()) throw InvalidArgument(key, "a number", brief(v));
  return v.get<double>();
}

int64_t integer(const json& v, const std::string& key, int64_t lo) {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) ||
      v.get<int64_t>() < lo)
    throw InvalidArgument(key, "an integer >= " + std::to_string(lo), brief(v));
  return v.get<int64_t>();
}

TrainingSettings parse_training(const json& t, const json& loss, uint64_t network_seed, int64_t E) {
  TrainingSettings s;
  s.data_seed = network_seed;
  if (!t.is_null() && !t.is_object()) throw InvalidArgument("training", "a JSON object", brief(t));
  if (!t.is_null())
    for (auto it = t.begin(); it != t.end(); ++it) {
      const std::string k = it.key(), key = "training." + k;
      const json& v = *it;
      if (k == "steps") s.steps = integer(v, key, 1);
      else if (k == "batch_size") s.batch_size = integer(v, key, 1);
      else if (k == "optimizer") {
        if (!v.is_string()) throw InvalidArgument(key, "'adam' or 'sgd'", brief(v));
        try {
          s.optimizer.kind = parse_optimizer(v.get<std::string>());
        } catch (const InvalidArgument&) {
          throw InvalidArgument(key, "'adam' or 'sgd'", brief(v));
        }
      } else if (k == "lr") s.optimizer.lr = detail::per_network_from_json(v, key);
      else if (k == "betas") {
        if (!v.is_array() || v.size() != 2) throw InvalidArgument(key, "[beta1, beta2]", brief(v));
        s.optimizer.beta1 = number(v[0], key), s.optimizer.beta2 = number(v[1], key);
      } else if (k == "eps") s.optimizer.eps = number(v, key);
      else if (k == "momentum") s.optimizer.momentum = detail::per_network_from_json(v, key);
      else if (k == "weight_decay") s.optimizer.weight_decay = detail::per_network_from_json(v, key);
      else if (k == "clip_grad_norm") s.optimizer.clip_grad_norm = detail::per_network_from_json(v, key);
      else if (k == "log_interval_s") s.log_interval_s = number(v, key);
      else if (k == "log_every") s.log_every = integer(v, key, 0);
      else if (k == "checkpoint_every") s.checkpoint_every = integer(v, key, 0);
      else if (k == "eval_batch_size") s.eval_batch_size = integer(v, key, 1);
      else if (k == "data_seed") {
        if (!v.is_number_unsigned()) throw InvalidArgument(key, "an integer >= 0", brief(v));
        s.data_seed = v.get<uint64_t>();
      }
      else throw InvalidArgument(key, "a training setting (unknown keys are not ignored)", "unknown key");
    }
  s.optimizer.validate("training.", E);
  if (!loss.is_null() && !loss.is_object()) throw InvalidArgument("loss", "a JSON object", brief(loss));
  if (!loss.is_null())
    for (auto it = loss.begin(); it != loss.end(); ++it) {
      int term = -1;
      for (int k = 0; k < kNumLossTerms; ++k)
        if (it.key() == std::string("lambda_") + kLossTermNames[k]) term = k;
      const std::string key = "loss." + it.key();
      if (term < 0) throw InvalidArgument(key, "one of lambda_mse, lambda_in, lambda_hid, lambda_out, lambda_fr, "
                                               "lambda_fr_sd, lambda_fr_cv", "unknown key");
      s.loss.lambda[term] = detail::per_network_from_json(*it, key);
    }
  s.loss.validate("loss.", E);
  return s;
}

// The config's task with `replace`'s data files (DataFiles), before any file is read.
void replace_data_files(json& config, const DataFiles& replace) {
  json task = config.contains("task") ? config["task"] : json::object();
  if (!task.is_object()) throw InvalidArgument("task", "an object", brief(task));
  if (!task.contains("data")) {
    if (replace.data.empty())
      throw InvalidArgument(replace.val_data_name, "training data too (--data, or a config whose task has \"data\")",
                            "a built-in task");
    task = json{{"decision_accuracy", !task.empty() && task_has_choices(task.dump())}};
  }
  const auto put = [&](const char* key, const std::string& path, const std::string& name) {
    if (path.empty()) return;
    // The config is JSON text (kept in checkpoints): a path that is not UTF-8 cannot be stored.
    if (!detail::is_utf8(path))
      throw InvalidArgument(name, "a path in UTF-8 (configs and checkpoints store it as JSON text)",
                            "bytes that are not UTF-8");
    task[key] = std::filesystem::absolute(path).string();
  };
  put("data", replace.data, replace.data_name);
  put("val_data", replace.val_data, replace.val_data_name);
  config["task"] = task;
}

}  // namespace

std::unique_ptr<Task> TrainConfig::make_task() const {
  if (task_json.empty()) throw InvalidArgument("task", "a \"task\" section in the config", "none");
  return ctrnn::make_task(task_json);
}

TrainConfig parse_train_config(const std::string& text, const std::string& base_dir, const DataFiles& replace) {
  json j = detail::parse_json_input(text, "config");
  if (!j.is_object()) throw InvalidArgument("config", "a JSON object", brief(j));
  TrainConfig tc;
  tc.text = text;
  if (!replace.data.empty() || !replace.val_data.empty()) {
    replace_data_files(j, replace);
    tc.text = j.dump();
  }
  std::unique_ptr<Task> task;
  if (j.contains("task")) {
    tc.task_json = resolve_data_paths(j["task"].dump(), base_dir);
    task = make_task(tc.task_json);
    if (!j.contains("dims")) j["dims"] = {task->input_dim(), 100, task->output_dim()};
  }
  detail::JsonConfigContext ctx;
  ctx.base_dir = base_dir;
  ctx.other_sections = {"task", "training", "loss"};
  tc.network = detail::config_from_json(j.dump(), ctx);
  if (task && (tc.network.dims[0] != task->input_dim() || tc.network.dims[2] != task->output_dim()))
    throw InvalidArgument("dims", "[" + std::to_string(task->input_dim()) + ", H, " + std::to_string(task->output_dim()) +
                                      "] for task '" + task->name() + "'",
                          brief(j["dims"]));
  tc.training = parse_training(j.value("training", json()), j.value("loss", json()), tc.network.seed,
                               tc.network.ensemble_size);
  return tc;
}

TrainConfig read_train_config(const std::string& path, const DataFiles& replace) {
  const std::string text = detail::read_regular_file(path, "config", kMaxConfigBytes);
  const size_t slash = path.find_last_of('/');
  return parse_train_config(text, slash == std::string::npos ? "." : path.substr(0, slash), replace);
}

}  // namespace ctrnn
