#include "ctrnn/train_config.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ctrnn/config_json.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"

namespace ctrnn {

using nlohmann::json;

namespace {

double number(const json& v, const std::string& key) {
  if (!v.is_number()) throw InvalidArgument(key, "a number", v.dump());
  return v.get<double>();
}

int64_t integer(const json& v, const std::string& key, int64_t lo) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo)
    throw InvalidArgument(key, "an integer >= " + std::to_string(lo), v.dump());
  return v.get<int64_t>();
}

TrainingSettings parse_training(const json& t, const json& loss, uint64_t network_seed) {
  TrainingSettings s;
  s.data_seed = network_seed;
  if (!t.is_null() && !t.is_object()) throw InvalidArgument("training", "a JSON object", t.dump());
  if (!t.is_null())
    for (auto it = t.begin(); it != t.end(); ++it) {
      const std::string k = it.key(), key = "training." + k;
      const json& v = *it;
      if (k == "steps") s.steps = integer(v, key, 1);
      else if (k == "batch_size") s.batch_size = integer(v, key, 1);
      else if (k == "optimizer") {
        if (!v.is_string()) throw InvalidArgument(key, "'adam' or 'sgd'", v.dump());
        try {
          s.optimizer.kind = parse_optimizer(v.get<std::string>());
        } catch (const InvalidArgument&) {
          throw InvalidArgument(key, "'adam' or 'sgd'", v.dump());
        }
      } else if (k == "lr") s.optimizer.lr = number(v, key);
      else if (k == "betas") {
        if (!v.is_array() || v.size() != 2) throw InvalidArgument(key, "[beta1, beta2]", v.dump());
        s.optimizer.beta1 = number(v[0], key), s.optimizer.beta2 = number(v[1], key);
      } else if (k == "eps") s.optimizer.eps = number(v, key);
      else if (k == "momentum") s.optimizer.momentum = number(v, key);
      else if (k == "weight_decay") s.optimizer.weight_decay = number(v, key);
      else if (k == "clip_grad_norm") s.optimizer.clip_grad_norm = number(v, key);
      else if (k == "log_interval_s") s.log_interval_s = number(v, key);
      else if (k == "log_every") s.log_every = integer(v, key, 0);
      else if (k == "checkpoint_every") s.checkpoint_every = integer(v, key, 0);
      else if (k == "eval_batch_size") s.eval_batch_size = integer(v, key, 1);
      else if (k == "data_seed") s.data_seed = uint64_t(integer(v, key, 0));
      else throw InvalidArgument(key, "a training setting (unknown keys are not ignored)", "unknown key");
    }
  s.optimizer.validate("training.");
  if (!loss.is_null() && !loss.is_object()) throw InvalidArgument("loss", "a JSON object", loss.dump());
  if (!loss.is_null())
    for (auto it = loss.begin(); it != loss.end(); ++it) {
      int term = -1;
      for (int k = 0; k < kNumLossTerms; ++k)
        if (it.key() == std::string("lambda_") + kLossTermNames[k]) term = k;
      const std::string key = "loss." + it.key();
      if (term < 0) throw InvalidArgument(key, "one of lambda_mse, lambda_in, lambda_hid, lambda_out, lambda_fr, "
                                               "lambda_fr_sd, lambda_fr_cv", "unknown key");
      const double x = number(*it, key);
      if (!(x >= 0) || !std::isfinite(x)) throw InvalidArgument(key, "a finite number >= 0", it->dump());
      s.loss.lambda[term] = x;
    }
  return s;
}

}  // namespace

std::unique_ptr<Task> TrainConfig::make_task() const {
  if (task_json.empty()) throw InvalidArgument("task", "a \"task\" section in the config", "none");
  return ctrnn::make_task(task_json);
}

TrainConfig parse_train_config(const std::string& text, const std::string& base_dir) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidArgument("config", "valid JSON", e.what());
  }
  if (!j.is_object()) throw InvalidArgument("config", "a JSON object", j.dump().substr(0, 40));
  TrainConfig tc;
  tc.text = text;
  std::unique_ptr<Task> task;
  if (j.contains("task")) {
    tc.task_json = resolve_data_paths(j["task"].dump(), base_dir);
    task = make_task(tc.task_json);
    if (!j.contains("dims")) j["dims"] = {task->input_dim(), 100, task->output_dim()};
  }
  JsonConfigContext ctx;
  ctx.base_dir = base_dir;
  ctx.other_sections = {"task", "training", "loss"};
  tc.network = config_from_json(j.dump(), ctx);
  if (task && (tc.network.dims[0] != task->input_dim() || tc.network.dims[2] != task->output_dim()))
    throw InvalidArgument("dims", "[" + std::to_string(task->input_dim()) + ", H, " + std::to_string(task->output_dim()) +
                                      "] for task '" + task->name() + "'",
                          j["dims"].dump());
  tc.training = parse_training(j.value("training", json()), j.value("loss", json()), tc.network.seed);
  return tc;
}

TrainConfig read_train_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError("ctrnn: cannot read config '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  const size_t slash = path.find_last_of('/');
  return parse_train_config(s.str(), slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace ctrnn
