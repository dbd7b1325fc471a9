// `ctrnn eval CHECKPOINT`, `ctrnn info CHECKPOINT` and `ctrnn run CONFIG|CHECKPOINT`.
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

const std::string& one_path(const Args& args, const char* what) {
  if (args.positional.size() != 1)
    throw InvalidArgument(what, "exactly one path", std::to_string(args.positional.size()) + " arguments");
  return args.positional[0];
}

uint64_t meta_u64(const Checkpoint& ck, const std::string& key, uint64_t fallback) {
  auto it = ck.metadata.find(key);
  return it == ck.metadata.end() ? fallback : std::stoull(it->second);
}

// A safetensors file starts with its header size; a JSON config starts with '{'.
bool looks_like_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError("ctrnn: cannot open '" + path + "'");
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  return c == '{';
}

}  // namespace

int eval_command(const Args& args) {
  const std::string& path = one_path(args, "CHECKPOINT");
  Checkpoint ck = load_checkpoint(path, parse_device(args.get("--device", "auto")));
  auto it = ck.metadata.find("task");
  if (it == ck.metadata.end() || it->second.empty())
    throw InvalidArgument("CHECKPOINT", "a checkpoint written by `ctrnn train` (it names the task)", "no task in '" + path + "'");
  const auto task = make_task(it->second);
  int64_t batch = int64_t(meta_u64(ck, "eval_batch_size", 256));
  if (args.has("--batch")) {
    batch = std::stoll(args.get("--batch"));
    if (batch <= 0) throw InvalidArgument("--batch", "a positive integer", args.get("--batch"));
  }
  Trainer trainer(ck.network, ck.optimizer, ck.loss_weights);
  const Evaluation ev = evaluate_on_task(ck.network, trainer, *task, batch, meta_u64(ck, "data_seed", ck.network.config().seed));
  std::cout << "checkpoint " << path << " (step " << (ck.trainer_state ? ck.trainer_state->step : 0) << "), task "
            << task->name() << ", " << batch << " fresh trials, eval mode\n";
  for (size_t e = 0; e < ev.loss.size(); ++e)
    std::cout << "network " << e << ": " << summarize({ev.loss[e]}, {ev.accuracy[e]}) << "\n";
  if (ev.loss.size() > 1) std::cout << "ensemble: " << summarize(ev.loss, ev.accuracy) << "\n";
  return 0;
}

int info_command(const Args& args) {
  const std::string& path = one_path(args, "CHECKPOINT");
  Checkpoint ck = load_checkpoint(path, Device::Cpu);
  std::cout << "checkpoint " << path << ": format " << ck.metadata["format"] << " v" << ck.metadata["format_version"];
  if (ck.trainer_state) std::cout << ", step " << ck.trainer_state->step << ", optimizer " << to_string(ck.optimizer.kind);
  if (!ck.metadata["task"].empty()) std::cout << ", task " << ck.metadata["task"];
  std::cout << "\n\n";
  ck.network.print_layers(std::cout);
  return 0;
}

int run_command(const Args& args) {
  const std::string& source = one_path(args, "CONFIG.json|CHECKPOINT");
  if (!args.has("--inputs")) throw InvalidArgument("--inputs", "a safetensors file with tensor 'u' (T, B, I) or (E, T, B, I)", "none");
  if (!args.has("--out")) throw InvalidArgument("--out", "the output safetensors path", "none");
  const Device device = parse_device(args.get("--device", "auto"));
  std::optional<Network> net;
  if (looks_like_json(source)) net.emplace(read_train_config(source).network, device);
  else net.emplace(std::move(load_checkpoint(source, device).network));
  const SafetensorsFile in = SafetensorsFile::read(args.get("--inputs"));
  if (!in.contains("u")) throw InvalidArgument("--inputs", "a tensor named 'u'", "'" + args.get("--inputs") + "' has none");
  net->eval();
  const ForwardResult<float> res = net->forward(in.get<float>("u"));
  SafetensorsFile out;
  out.put("y", res.y);
  out.put("r", res.r);
  out.metadata["source"] = source;
  out.write(args.get("--out"));
  std::cout << "wrote " << args.get("--out") << ": y " << shape_to_string(res.y.shape) << ", r "
            << shape_to_string(res.r.shape) << "\n";
  return 0;
}

}  // namespace ctrnn::cli
