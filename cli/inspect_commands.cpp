// `ctrnn eval CHECKPOINT`, `ctrnn info CHECKPOINT` and `ctrnn run CONFIG|CHECKPOINT`.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/config_json.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/evaluation.hpp"
#include "ctrnn/run_folder.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/train_config.hpp"
#include "options.hpp"

namespace ctrnn::cli {

namespace {

using nlohmann::json;

// A safetensors file starts with its header size; a JSON config starts with '{'. Refuses
// (naming `option`) what is not a readable regular file: opened without blocking, so a FIFO is
// refused rather than waited on.
bool looks_like_json(const std::string& path, const std::string& option) {
  const std::string expected = "a config JSON or a checkpoint (a readable regular file)";
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw InvalidArgument(option, expected, "'" + path + "': " + std::strerror(errno));
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  char c = 0;
  while (regular && ::read(fd, &c, 1) == 1 && std::isspace(static_cast<unsigned char>(c))) {
  }
  ::close(fd);
  if (!regular) throw InvalidArgument(option, expected, "'" + path + "', not a regular file");
  return c == '{';
}

Checkpoint load_checkpoint_not_config(const std::string& path, Device device) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && looks_like_json(path, "CHECKPOINT"))
    throw InvalidArgument("CHECKPOINT", "a checkpoint (.safetensors)", "a JSON config '" + path + "'");
  return load_checkpoint(path, device);
}

// Whether a stored task is a data-file task (its JSON has "data").
bool task_has_data(const std::string& task_json) {
  if (task_json.empty()) return false;
  const json t = json::parse(task_json, nullptr, /*allow_exceptions=*/false);
  return t.is_object() && t.contains("data");
}

std::string meta_or(const Checkpoint& ck, const std::string& key, const std::string& fallback) {
  auto it = ck.metadata.find(key);
  return it == ck.metadata.end() ? fallback : it->second;
}

// Keep mode refuses a batch size other than the carried state's; from the command line the way
// out is --reset-state.
template <class F>
auto with_keep_hint(F&& f) {
  try {
    return f();
  } catch (const InvalidArgument& e) {
    if (e.parameter() != "inputs" || std::string(e.what()).find("keep mode") == std::string::npos) throw;
    throw InvalidArgument("inputs", "the batch size of keep mode's carried state (pass --reset-state to start from "
                                    "zeros)", std::string(e.what()).substr(std::string(e.what()).rfind(", got ") + 6));
  }
}

// Metadata that should hold JSON; a damaged entry shows as its text rather than failing `info`.
json metadata_json(const Checkpoint& ck, const std::string& key) {
  const std::string text = meta_or(ck, key, "null");
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return text;
  }
}

std::string precise(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

}  // namespace

int eval_command(const EvalOptions& o) {
  const int64_t batch_option = o.batch.empty() ? 0 : parse_integer(o.batch, "--batch", 1, int64_t(1) << 31);
  Checkpoint ck = load_checkpoint_not_config(o.checkpoint, parse_device(o.device));
  const std::string task_json = meta_or(ck, "task", "");
  if (task_json.empty() && o.data.empty())
    throw InvalidArgument("CHECKPOINT", "a checkpoint written by `ctrnn train` (it names the task), or --data FILE",
                          "no task in '" + o.checkpoint + "'");
  int64_t batch = parse_integer(meta_or(ck, "eval_batch_size", "256"), "checkpoint metadata eval_batch_size", 1,
                                int64_t(1) << 31);
  if (batch_option) batch = batch_option;
  // A data file is evaluated on all its trials: --batch would be silently ignored.
  if (batch_option && (!o.data.empty() || task_has_data(task_json)))
    throw InvalidArgument("--batch", "fresh trials of a built-in task (a data file is evaluated on all its trials)",
                          !o.data.empty() ? "--data " + o.data : "a run trained on a data file");
  if (o.reset_state) ck.network.reset_state();
  Trainer trainer(ck.network, ck.optimizer, ck.loss_weights);
  const Config& c = ck.network.config();
  Evaluation ev;
  std::string what;
  if (!o.data.empty()) {
    const DataSet d = DataSet::read(o.data);
    if (d.input_dim() != c.dims[0] || d.output_dim() != c.dims[2])
      throw InvalidArgument("--data", "trials with the network's I = " + std::to_string(c.dims[0]) + " and O = " +
                                          std::to_string(c.dims[2]),
                            "I = " + std::to_string(d.input_dim()) + ", O = " + std::to_string(d.output_dim()) + " in '" +
                                o.data + "'");
    const bool choices = !task_json.empty() && task_has_choices(task_json);
    ev = with_keep_hint([&] { return evaluate_batch(ck.network, trainer, d.all(), choices); });
    what = std::to_string(d.trials()) + " trials of " + o.data;
  } else {
    const auto task = make_task(task_json);
    const uint64_t seed = uint64_t(parse_integer(meta_or(ck, "data_seed", std::to_string(c.seed)),
                                                 "checkpoint metadata data_seed", 0, INT64_MAX));
    ev = with_keep_hint([&] { return evaluate_on_task(ck.network, trainer, *task, batch, seed); });
    const DataSet* d = task->validation_set() ? task->validation_set() : task->data_set();
    what = "task " + task->name() + ", " + (d ? std::to_string(d->trials()) + " trials of " + d->path
                                              : std::to_string(batch) + " fresh trials");
  }
  std::cout << "checkpoint " << o.checkpoint << " (step " << (ck.trainer_state ? ck.trainer_state->step : 0) << "), "
            << what << ", eval mode\n";
  for (size_t e = 0; e < ev.loss.size(); ++e) {
    std::cout << "network " << e << ": loss " << precise(ev.loss[e]);
    if (!std::isnan(ev.accuracy[e])) std::cout << " acc " << precise(ev.accuracy[e]);
    std::cout << "\n";
  }
  if (ev.loss.size() > 1) std::cout << "ensemble: " << summarize(ev.loss, ev.accuracy) << "\n";
  return kSuccess;
}

int info_command(const InfoOptions& o) {
  const Checkpoint ck = load_checkpoint_not_config(o.checkpoint, Device::Cpu);
  SafetensorsFile scratch;
  const json config = json::parse(config_to_json(ck.network.config(), scratch));
  json state = nullptr;
  if (ck.trainer_state) {
    json diverged = json::array();  // the networks that have diverged (frozen)
    for (size_t e = 0; e < ck.trainer_state->diverged.size(); ++e)
      if (ck.trainer_state->diverged[e]) diverged.push_back(e);
    state = {{"step", ck.trainer_state->step}, {"optimizer", metadata_json(ck, "optimizer")},
             {"last_loss", metadata_json(ck, "last_loss")}, {"diverged", diverged}};
  }
  const json task = metadata_json(ck, "task");
  if (o.json) {
    json layers = json::array();
    for (const auto& v : ck.network.layers()) {
      json l{{"layer", to_string(v.layer)}, {"pre", v.pre}, {"post", v.post}, {"bias_learnable", v.bias_learnable}};
      if (v.sparsity_mask) {
        double on = 0;
        for (float m : v.sparsity_mask->data) on += m != 0;
        l["sparsity_density"] = on / double(v.sparsity_mask->numel());
      }
      l["ei_mask"] = bool(v.ei_mask);
      l["growth"] = bool(v.growth_probability);
      layers.push_back(l);
    }
    const json out{{"checkpoint", o.checkpoint},
                   {"format_version", meta_or(ck, "format_version", "")},
                   {"mode", meta_or(ck, "mode", "")},
                   {"config", config},
                   {"training", state},
                   {"task", task},
                   {"layers", layers}};
    std::cout << out.dump(2) << "\n";
    return kSuccess;
  }
  std::cout << "checkpoint " << o.checkpoint << ": format " << meta_or(ck, "format", "?") << " v"
            << meta_or(ck, "format_version", "?") << ", " << meta_or(ck, "mode", "?") << " mode\n";
  if (ck.trainer_state) {
    std::cout << "training: step " << ck.trainer_state->step << ", optimizer " << state["optimizer"].dump()
              << ", last loss " << state["last_loss"].dump();
    if (!state["diverged"].empty()) std::cout << ", diverged networks " << state["diverged"].dump();
    std::cout << "\n";
  }
  if (!task.is_null()) std::cout << "task: " << task.dump() << "\n";
  std::cout << "config: " << config.dump() << "\n\n";
  ck.network.print_layers(std::cout);
  return kSuccess;
}

int run_command(const RunOptions& o) {
  if (o.inputs.empty()) throw InvalidArgument("--inputs", "a safetensors file with tensor 'u' (T, B, I) or (E, T, B, I)", "none");
  if (o.out.empty()) throw InvalidArgument("--out", "the output safetensors path", "none");
  const OutputFile out_file(o.out, "--out", o.overwrite);
  const Device device = parse_device(o.device);
  std::optional<Network> net;
  if (looks_like_json(o.source, "SOURCE")) net.emplace(read_train_config(o.source).network, device);
  else net.emplace(std::move(load_checkpoint(o.source, device).network));
  const Tensor<float> u = read_inputs_option(o.inputs, net->config());
  if (o.reset_state) net->reset_state();
  net->eval();
  const ForwardResult<float> res = with_keep_hint([&] { return net->forward(u); });
  SafetensorsFile out;
  out.put("y", res.y);
  out.put("r", res.r);
  out.metadata["source"] = o.source;
  try {
    out.write(o.out);
  } catch (const FileError& e) {
    throw WriteError(e.what());
  }
  std::cout << "wrote " << o.out << (out_file.existed() ? " (replaced the existing file)" : "") << ": y "
            << shape_to_string(res.y.shape) << ", r " << shape_to_string(res.r.shape) << "\n";
  return kSuccess;
}

}  // namespace ctrnn::cli
