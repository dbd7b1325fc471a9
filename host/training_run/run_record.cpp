#include "training_run/run_record.hpp"

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "ctrnn/config_json.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/per_network.hpp"
#include "ctrnn/safetensors.hpp"

namespace ctrnn::detail {

using nlohmann::json;

namespace {

std::string hex(uint64_t h) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

uint64_t hash_values(const Array& a) {
  uint64_t h = 14695981039346656037ull;
  for (double x : a.data) {
    const auto* p = reinterpret_cast<const unsigned char*>(&x);
    for (size_t i = 0; i < sizeof x; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  return h;
}

// The network config's fields; an array stands for itself by shape and hash.
void add_network(RunFields& out, const Config& c) {
  SafetensorsFile arrays;
  const json j = json::parse(config_to_json(c, arrays));
  for (auto it = j.begin(); it != j.end(); ++it) {
    json v = *it;
    std::function<void(json&)> replace_arrays = [&](json& x) {
      if (x.is_object() && x.contains("tensor")) {
        const Array a = arrays.get<double>(x["tensor"].get<std::string>());
        x = "array " + shape_to_string(a.shape) + " #" + hex(hash_values(a));
      } else if (x.is_array()) {
        for (auto& y : x) replace_arrays(y);
      }
    };
    replace_arrays(v);
    out.emplace_back(it.key(), v.dump());
  }
}

json training_json(const TrainingSettings& s) {
  const OptimizerConfig& o = s.optimizer;
  return {{"steps", s.steps},
          {"batch_size", s.batch_size},
          {"optimizer", to_string(o.kind)},
          {"lr", json::parse(to_json(o.lr))},
          {"betas", {o.beta1, o.beta2}},
          {"eps", o.eps},
          {"momentum", json::parse(to_json(o.momentum))},
          {"weight_decay", json::parse(to_json(o.weight_decay))},
          {"clip_grad_norm", json::parse(to_json(o.clip_grad_norm))},
          {"log_interval_s", s.log_interval_s},
          {"log_every", s.log_every},
          {"checkpoint_every", s.checkpoint_every},
          {"eval_batch_size", s.eval_batch_size},
          {"data_seed", s.data_seed}};
}

json loss_json(const LossWeights& w) {
  json j;
  for (int k = 0; k < kNumLossTerms; ++k) j[std::string("lambda_") + kLossTermNames[k]] = json::parse(to_json(w.lambda[k]));
  return j;
}

// Settings that may differ between a run and its continuation.
bool may_change(const std::string& training_key) {
  for (const char* k : {"steps", "log_interval_s", "log_every", "checkpoint_every", "eval_batch_size"})
    if (training_key == k) return true;
  return false;
}

const std::string& metadata(const Checkpoint& ck, const std::string& key) {
  auto it = ck.metadata.find(key);
  if (it == ck.metadata.end() || !ck.trainer_state)
    throw InvalidArgument("--resume", "a checkpoint written by `ctrnn train` (with its run record and optimizer state)",
                          "no '" + key + "' in its metadata");
  return it->second;
}

[[noreturn]] void refuse_record(const std::string& problem) {
  throw InvalidArgument("--resume", "a checkpoint whose 'run' metadata is the record `ctrnn train` writes", problem);
}

json stored_record(const Checkpoint& ck) {
  json r;
  try {
    r = json::parse(metadata(ck, kRunMetadataKey));
  } catch (const json::exception&) {
    refuse_record("text that is not JSON");  // not the JSON library's own words
  }
  if (!r.is_object()) refuse_record("not an object");
  return r;
}

}  // namespace

RunFields run_identity(const TrainConfig& tc, const Task& task) {
  RunFields out;
  add_network(out, tc.network);
  const json t = json::parse(tc.task_json);
  if (const DataSet* d = task.data_set()) {
    out.emplace_back("task.data", "contents #" + hex(d->fingerprint));
  } else {
    for (auto it = t.begin(); it != t.end(); ++it) out.emplace_back("task." + it.key(), it->dump());
  }
  const json training = training_json(tc.training);
  for (auto it = training.begin(); it != training.end(); ++it)
    if (!may_change(it.key())) out.emplace_back("training." + it.key(), it->dump());
  const json loss = loss_json(tc.training.loss);
  for (auto it = loss.begin(); it != loss.end(); ++it) out.emplace_back("loss." + it.key(), it->dump());
  return out;
}

std::string run_metadata(const RunFields& identity, const TrainConfig& tc) {
  json fields = json::array();
  for (const auto& [k, v] : identity) fields.push_back({k, v});
  return json{{"identity", fields},
              {"task", json::parse(tc.task_json)},
              {"training", training_json(tc.training)},
              {"loss", loss_json(tc.training.loss)}}
      .dump();
}

std::string stored_run_config(const Checkpoint& ck) {
  const json r = stored_record(ck);
  const Config& c = ck.network.config();
  json config{{"dims", c.dims}, {"seed", c.seed}, {"ensemble_size", c.ensemble_size}};  // E: per-network values
  for (const char* section : {"task", "training", "loss"}) {
    if (!r.contains(section) || !r[section].is_object()) refuse_record(std::string("no object '") + section + "'");
    config[section] = r[section];
  }
  return config.dump();
}

RunFields stored_identity(const Checkpoint& ck) {
  RunFields out;
  const json r = stored_record(ck);
  const json identity = r.value("identity", json::array());
  if (!identity.is_array()) refuse_record("'identity' is not a list");
  for (const auto& f : identity) {
    if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_string())
      refuse_record("an 'identity' entry that is not a [field, value] pair of strings");
    out.emplace_back(f[0].get<std::string>(), f[1].get<std::string>());
  }
  return out;
}

void check_same_run(const RunFields& stored, const RunFields& current, const std::string& what_differs) {
  // A network key (no section prefix) that the stored run has and a current network config does
  // not: config_to_json leaves out keys at their defaults (learn_tau, tau_max, tau_plasticity,
  // first_network), so the current network has the default where the stored one did not.
  auto has = [](const RunFields& fields, const std::string& key) {
    for (const auto& f : fields)
      if (f.first == key) return true;
    return false;
  };
  auto network_key = [](const std::string& key) { return key.find('.') == std::string::npos; };
  bool current_has_network = false;
  for (const auto& f : current) current_has_network = current_has_network || network_key(f.first);
  for (const auto& [key, value] : stored)
    if (current_has_network && network_key(key) && !has(current, key))
      throw InvalidArgument("--resume", "the same " + key + " as the checkpoint's run (only steps, logging, "
                                        "checkpoint_every, eval_batch_size, validation data and the output folder may change)",
                            what_differs + " " + key + " (none: the default) where the checkpoint has " + value);
  for (const auto& [key, value] : current) {
    std::string before = "(none)";
    for (const auto& [k, v] : stored)
      if (k == key) before = v;
    if (before != value)
      throw InvalidArgument("--resume", "the same " + key + " as the checkpoint's run (only steps, logging, "
                                        "checkpoint_every, eval_batch_size, validation data and the output folder may change)",
                            what_differs + " " + key + " " + value + " where the checkpoint has " + before);
  }
}

}  // namespace ctrnn::detail
