// extract_network: one network of an ensemble's checkpoint as a one-network checkpoint. Works on
// the file: every tensor with the leading E axis (parameters, optimizer moments, the kept state)
// sliced, every per-network value in the metadata ({"per_network": [...]}) replaced by the
// network's own, ensemble_size 1 and first_network its global index; masks are shared by the
// ensemble and stay. The stored train_config then trains that network alone with `ctrnn train`.
#include <nlohmann/json.hpp>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/run_folder.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/sweep.hpp"
#include "ctrnn/train_config.hpp"
#include "json_input.hpp"
#include "training_run/run_record.hpp"

namespace ctrnn {

namespace {

using nlohmann::json;

// Network k's value wherever `j` holds a per-network list; `what` names the metadata entry.
json own_values(const json& j, int64_t k, const std::string& what) {
  if (j.is_object() && j.size() == 1 && j.contains("per_network") && j["per_network"].is_array()) {
    if (size_t(k) >= j["per_network"].size())
      throw InvalidArgument("CHECKPOINT", "per-network lists of one value per network in its " + what,
                            detail::brief(j));
    return j["per_network"][size_t(k)];
  }
  json out = j;
  if (out.is_object()) {
    for (auto& [key, v] : out.items()) v = own_values(v, k, what);
  } else if (out.is_array()) {
    for (auto& v : out) v = own_values(v, k, what);
  }
  return out;
}

bool sliced_tensor(const std::string& name) {
  for (const char* prefix : {"params.", "optimizer.m.", "optimizer.v.", "state."})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

void extract_network(const std::string& checkpoint, int64_t network, const std::string& out, bool overwrite) {
  const Checkpoint ck = load_checkpoint(checkpoint, Device::Cpu);  // checks the whole file first
  const int64_t E = ck.network.ensemble_size();
  if (network < 0 || network >= E)
    throw InvalidArgument("--network", "a network of the checkpoint's ensemble (0 to " + std::to_string(E - 1) + ")",
                          std::to_string(network));
  if (!ck.metadata.count("train_config") || !ck.trainer_state)
    throw InvalidArgument("CHECKPOINT", "a checkpoint written by a training run (with its train_config)",
                          "none in '" + checkpoint + "'");
  const int64_t global = ck.network.config().first_network + network;
  const OutputFile target(out, "--out", overwrite);

  SafetensorsFile f = SafetensorsFile::read(checkpoint);
  for (const std::string& name : f.names()) {
    if (!sliced_tensor(name)) continue;
    const Tensor<float> all = f.get<float>(name);
    Shape shape = all.shape;
    shape[0] = 1;
    Tensor<float> one(shape);
    const int64_t per = one.numel();
    std::copy(all.data.begin() + network * per, all.data.begin() + (network + 1) * per, one.data.begin());
    f.put(name, one);
  }
  const auto one_network = [&](const std::string& key, const std::string& text) {  // network's own values
    json j = own_values(detail::parse_json_input(text, key), network, key);
    if (!j.is_object()) throw InvalidArgument("CHECKPOINT", "an object as its '" + key + "' metadata", detail::brief(j));
    if (j.contains("ensemble_size")) {
      j["ensemble_size"] = 1;
      j["first_network"] = global;
    }
    return j;
  };
  for (const char* key : {"config", "optimizer", "loss_weights"}) f.metadata[key] = one_network(key, f.metadata[key]).dump();
  json train_config = one_network("train_config", f.metadata["train_config"]);
  train_config["ensemble_size"] = 1;  // also where the config left it out
  train_config["first_network"] = global;
  f.metadata["train_config"] = train_config.dump(2);
  for (const char* key : {"diverged", "last_loss"})  // one entry per network, as load_checkpoint checked
    if (f.metadata.count(key)) {
      const json all = detail::parse_json_input(f.metadata[key], key);
      if (all.is_array() && all.size() == size_t(E))
        f.metadata[key] = json::array({all[size_t(network)]}).dump();
      else
        f.metadata.erase(key);
    }
  // The run record of the config as it is now: `ctrnn train --resume` continues the file.
  const TrainConfig tc = parse_train_config(f.metadata["train_config"], ".");
  const auto task = tc.make_task();
  f.metadata[detail::kRunMetadataKey] = detail::run_metadata(detail::run_identity(tc, *task), tc);
  f.write(target.path());
  load_checkpoint(target.path(), Device::Cpu);  // what was written loads
}

}  // namespace ctrnn
