#include "ctrnn/checkpoint.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "ctrnn/config_json.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"

namespace ctrnn {

using nlohmann::json;

namespace {

// Shapes of Params::arrays() with the leading E axis.
std::vector<Shape> param_shapes(const Config& c) {
  const int64_t E = c.ensemble_size, I = c.dims[0], H = c.dims[1], O = c.dims[2];
  return {{E, I, H}, {E, H, H}, {E, H, O}, {E, H}, {E, H}, {E, O}, {E, H}};
}

void put_params(SafetensorsFile& f, const std::string& prefix, const Params<float>& p, const Config& c) {
  const auto shapes = param_shapes(c);
  const auto arrays = p.arrays();
  for (size_t a = 0; a < arrays.size(); ++a) f.put(prefix + kParamNames[a], Tensor<float>(shapes[a], *arrays[a]));
}

json optimizer_json(const OptimizerConfig& o) {
  return {{"optimizer", to_string(o.kind)}, {"lr", o.lr}, {"betas", {o.beta1, o.beta2}}, {"eps", o.eps},
          {"momentum", o.momentum}, {"weight_decay", o.weight_decay}, {"clip_grad_norm", o.clip_grad_norm}};
}

}  // namespace

void save_checkpoint(const std::string& path, const Network& net, const Trainer* trainer,
                     const std::map<std::string, std::string>& extra) {
  // The config as it stands now: masks grown during training replace the initial ones.
  Config c = net.config();
  const auto& constraints = net.constraints();
  for (int l = 0; l < 3; ++l)
    if (constraints[l].has_sparsity())
      c.sparsity_masks[l] = Array({c.ensemble_size, constraints[l].pre, constraints[l].post},
                                  std::vector<double>(constraints[l].sparsity.begin(), constraints[l].sparsity.end()));
  SafetensorsFile f;
  f.metadata = extra;
  f.metadata["format"] = kCheckpointFormat;
  f.metadata["format_version"] = std::to_string(kCheckpointVersion);
  f.metadata["config"] = config_to_json(c, f);
  f.metadata["forward_calls"] = std::to_string(net.forward_calls());
  f.metadata["mode"] = net.mode() == Mode::Train ? "train" : "eval";
  put_params(f, "params.", net.params(), c);
  const Tensor<float> kept = net.kept_state();
  if (kept.numel()) f.put("state.kept_v", kept);
  if (trainer) {
    const TrainerState<float> s = trainer->state();
    f.metadata["step"] = std::to_string(s.step);
    f.metadata["optimizer"] = optimizer_json(trainer->optimizer()).dump();
    json lw;
    for (int k = 0; k < kNumLossTerms; ++k) lw[std::string("lambda_") + kLossTermNames[k]] = trainer->loss_weights().lambda[k];
    f.metadata["loss_weights"] = lw.dump();
    put_params(f, "optimizer.m.", s.m, c);
    put_params(f, "optimizer.v.", s.v, c);
  }
  f.write(path);
}

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& problem) {
  throw InvalidArgument("checkpoint", "a ctrnn checkpoint (format " + std::string(kCheckpointFormat) + ", version " +
                                          std::to_string(kCheckpointVersion) + ")",
                        "'" + path + "': " + problem);
}

const std::string& meta(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) refuse(path, "no '" + key + "' in its metadata");
  return it->second;
}

int64_t meta_integer(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  const std::string& s = meta(f, key, path);
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  refuse(path, "metadata '" + key + "' is not a non-negative integer: '" + s + "'");
}

Params<float> read_params(const SafetensorsFile& f, const std::string& prefix, const Config& c, const std::string& path) {
  Params<float> p = Params<float>::zeros(c.ensemble_size, c.dims[0], c.dims[1], c.dims[2]);
  const auto shapes = param_shapes(c);
  auto arrays = p.arrays();
  for (size_t a = 0; a < arrays.size(); ++a) {
    const std::string name = prefix + kParamNames[a];
    if (!f.contains(name)) refuse(path, "missing tensor '" + name + "'");
    if (f.dtype(name) != "F32") refuse(path, "tensor '" + name + "' has dtype " + f.dtype(name) + ", expected F32");
    if (f.shape(name) != shapes[a])
      refuse(path, "tensor '" + name + "' has shape " + shape_to_string(f.shape(name)) + ", expected " +
                       shape_to_string(shapes[a]));
    *arrays[a] = f.get<float>(name).data;
    for (float x : *arrays[a])
      if (!std::isfinite(x)) refuse(path, "tensor '" + name + "' holds NaN or Inf");
  }
  return p;
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path, Device device) {
  SafetensorsFile f;
  try {
    f = SafetensorsFile::read(path);
  } catch (const FileError& e) {
    refuse(path, e.what());
  }
  if (!f.metadata.count("format") || f.metadata.at("format") != kCheckpointFormat)
    refuse(path, "not a ctrnn checkpoint (no format = " + std::string(kCheckpointFormat) + " in its metadata)");
  const int64_t version = meta_integer(f, "format_version", path);
  if (version != kCheckpointVersion)
    refuse(path, "format version " + std::to_string(version) + " (this build reads version " +
                     std::to_string(kCheckpointVersion) + ")");
  JsonConfigContext ctx;
  ctx.self = &f;
  Config c;
  try {
    c = config_from_json(meta(f, "config", path), ctx);
  } catch (const InvalidArgument& e) {
    refuse(path, std::string("its config is invalid: ") + e.what());
  }
  const Params<float> p = read_params(f, "params.", c, path);
  Checkpoint ck{Network(c, device), std::nullopt, {}, {}, f.metadata};
  Network& net = ck.network;
  for (int l = 0; l < 3; ++l) {
    const Layer layer = Layer(l);
    const auto s = c.layer_shape(layer);
    net.set_weight(layer, Tensor<float>({c.ensemble_size, s[0], s[1]}, p.weight(layer)));
    if (net.bias_learnable(layer)) net.set_bias(layer, Tensor<float>({c.ensemble_size, s[1]}, p.bias(layer)));
  }
  if (net.h0_learnable()) net.set_initial_state(Tensor<float>({c.ensemble_size, c.dims[1]}, p.h0));
  net.set_forward_calls(uint64_t(meta_integer(f, "forward_calls", path)));
  if (meta(f, "mode", path) == "eval") net.eval();
  if (f.contains("state.kept_v")) {
    if (c.init_state != InitState::Keep) refuse(path, "a kept state without init_state 'keep'");
    try {
      net.set_kept_state(f.get<float>("state.kept_v"));
    } catch (const InvalidArgument& e) {
      refuse(path, e.what());
    }
  }
  if (f.metadata.count("step")) {
    TrainerState<float> s;
    s.step = meta_integer(f, "step", path);
    s.m = read_params(f, "optimizer.m.", c, path);
    s.v = read_params(f, "optimizer.v.", c, path);
    ck.trainer_state = std::move(s);
    try {
      const json o = json::parse(meta(f, "optimizer", path));
      ck.optimizer.kind = parse_optimizer(o.at("optimizer").get<std::string>());
      ck.optimizer.lr = o.at("lr").get<double>();
      ck.optimizer.beta1 = o.at("betas").at(0).get<double>();
      ck.optimizer.beta2 = o.at("betas").at(1).get<double>();
      ck.optimizer.eps = o.at("eps").get<double>();
      ck.optimizer.momentum = o.at("momentum").get<double>();
      ck.optimizer.weight_decay = o.at("weight_decay").get<double>();
      ck.optimizer.clip_grad_norm = o.at("clip_grad_norm").get<double>();
      ck.optimizer.validate();
      const json lw = json::parse(meta(f, "loss_weights", path));
      for (int k = 0; k < kNumLossTerms; ++k)
        ck.loss_weights.lambda[k] = lw.at(std::string("lambda_") + kLossTermNames[k]).get<double>();
    } catch (const std::exception& e) {
      refuse(path, std::string("its optimizer metadata is invalid: ") + e.what());
    }
  }
  return ck;
}

}  // namespace ctrnn
