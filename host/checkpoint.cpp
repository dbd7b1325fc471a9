#include "ctrnn/checkpoint.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "ctrnn/config_json.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "json_input.hpp"
#include "per_network_json.hpp"
#include "number_text.hpp"
#include "view_support.hpp"

namespace ctrnn {

using nlohmann::json;

namespace {

// A backend's description without its thread count ("cpu (OpenBLAS 0.3.34, SkylakeX kernels, 2
// threads)" -> "cpu (OpenBLAS 0.3.34, SkylakeX kernels)"): the CPU backend cuts its work by the
// problem's shape, so the thread count does not change one bit of a run; the rest does.
std::string without_thread_count(const std::string& description) {
  static const std::regex threads(", [0-9]+ threads\\)$");
  return std::regex_replace(description, threads, ")");
}

void put_params(SafetensorsFile& f, const std::string& prefix, const Params<float>& p, const Config& c) {
  const auto arrays = p.arrays();
  for (int k = 0; k < kNumParamArrays; ++k)
    f.put(prefix + kParamNames[k], Tensor<float>(param_shape(k, c), *arrays[k]));
}

using detail::per_network_json;

json optimizer_json(const OptimizerConfig& o) {
  return {{"optimizer", to_string(o.kind)},          {"lr", per_network_json(o.lr)},
          {"betas", {o.beta1, o.beta2}},             {"eps", o.eps},
          {"momentum", per_network_json(o.momentum)}, {"weight_decay", per_network_json(o.weight_decay)},
          {"clip_grad_norm", per_network_json(o.clip_grad_norm)}};
}

// A checkpoint must load: a NaN or Inf in what it stores would make it unloadable and replace the
// last good one.
void check_finite(const std::vector<float>& values, const std::string& name, const std::string& path) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw StateError("ctrnn: not saving checkpoint '" + path + "': " + name + " holds " + detail::number_text(values[i]) +
                       " at flat index " + std::to_string(i) + " (the previous file, if any, is kept)");
}

void check_finite(const Params<float>& p, const std::string& prefix, const std::string& path) {
  const auto arrays = p.arrays();
  for (size_t a = 0; a < arrays.size(); ++a) check_finite(*arrays[a], prefix + kParamNames[a], path);
}

}  // namespace

void save_checkpoint(const std::string& path, const Network& net, const Trainer* trainer,
                     const std::map<std::string, std::string>& extra) {
  check_finite(net.params(), "params.", path);
  const Tensor<float> kept = net.kept_state();
  check_finite(kept.data, "state.kept_v", path);
  std::optional<TrainerState<float>> trainer_state;
  if (trainer) {
    trainer_state = trainer->state();
    check_finite(trainer_state->m, "optimizer.m.", path);
    check_finite(trainer_state->v, "optimizer.v.", path);
  }
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
  f.metadata["computed_on"] = net.device_description();
  put_params(f, "params.", net.params(), c);
  if (kept.numel()) f.put("state.kept_v", kept);
  if (trainer) {
    const TrainerState<float>& s = *trainer_state;
    f.metadata["step"] = std::to_string(s.step);
    f.metadata["optimizer"] = optimizer_json(trainer->optimizer()).dump();
    json lw;
    for (int k = 0; k < kNumLossTerms; ++k)
      lw[std::string("lambda_") + kLossTermNames[k]] = per_network_json(trainer->loss_weights().lambda[k]);
    f.metadata["loss_weights"] = lw.dump();
    f.metadata["diverged"] = json(std::vector<int>(s.diverged.begin(), s.diverged.end())).dump();
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

// Digits only: no sign, no spaces, no trailing text, within 64 bits.
std::optional<uint64_t> parse_unsigned(const std::string& s) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  uint64_t v = 0;
  for (char ch : s)
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, uint64_t(ch - '0'), &v)) return std::nullopt;
  return v;
}

uint64_t meta_unsigned(const SafetensorsFile& f, const std::string& key, const std::string& path,
                       uint64_t max = uint64_t(INT64_MAX)) {
  const std::string& s = meta(f, key, path);
  const auto v = parse_unsigned(s);
  if (!v || *v > max)
    refuse(path, "metadata '" + key + "' is '" + s + "', expected an integer in [0, " + std::to_string(max) + "]");
  return *v;
}

// Checks every tensor's presence, dtype and shape before allocating anything: the file's own
// sizes, not the config's, bound what is allocated. alpha may be absent (checkpoints written
// before it was a parameter, when it was never learned): `alpha` then stands for it (the
// config's dt / tau for the parameters, zeros for the moments).
Params<float> read_params(const SafetensorsFile& f, const std::string& prefix, const Config& c, const std::string& path,
                          const std::vector<float>& alpha) {
  for (int k = 0; k < kNumParamArrays; ++k) {
    const std::string name = prefix + kParamNames[k];
    if (k == kAlpha && !f.contains(name)) continue;
    if (!f.contains(name)) refuse(path, "missing tensor '" + name + "'");
    if (f.dtype(name) != "F32") refuse(path, "tensor '" + name + "' has dtype " + f.dtype(name) + ", expected F32");
    if (f.shape(name) != param_shape(k, c))
      refuse(path, "tensor '" + name + "' has shape " + shape_to_string(f.shape(name)) + ", expected " +
                       shape_to_string(param_shape(k, c)));
  }
  Params<float> p;
  p.E = c.ensemble_size, p.I = c.dims[0], p.H = c.dims[1], p.O = c.dims[2];
  auto arrays = p.arrays();
  for (size_t a = 0; a < arrays.size(); ++a) {
    const std::string name = prefix + kParamNames[a];
    *arrays[a] = int(a) == kAlpha && !f.contains(name) ? alpha : f.get<float>(name).data;
    for (float x : *arrays[a])
      if (!std::isfinite(x)) refuse(path, "tensor '" + name + "' holds NaN or Inf");
  }
  return p;
}

Mode parse_mode(const SafetensorsFile& f, const std::string& path) {
  const std::string& m = meta(f, "mode", path);
  if (m == "train") return Mode::Train;
  if (m == "eval") return Mode::Eval;
  refuse(path, "metadata 'mode' is '" + m + "', expected 'train' or 'eval'");
}

double as_number(const json& v, const std::string& key) {
  if (!v.is_number()) throw InvalidArgument(key, "a number", detail::brief(v));
  return v.get<double>();
}

double number_field(const json& o, const std::string& key) {
  if (!o.contains(key)) throw InvalidArgument(key, "a number", "none");
  return as_number(o[key], key);
}

PerNetwork per_network_field(const json& o, const std::string& key) {
  if (!o.contains(key)) throw InvalidArgument(key, "a number or {\"per_network\": [...]}", "none");
  return detail::per_network_from_json(o[key], key);
}

void read_optimizer(const SafetensorsFile& f, const std::string& path, int64_t E, Checkpoint& ck) {
  try {
    const json o = detail::parse_json_input(meta(f, "optimizer", path), "optimizer");
    if (!o.is_object() || !o.contains("optimizer") || !o["optimizer"].is_string())
      throw InvalidArgument("optimizer", "an object naming the optimizer", detail::brief(o));
    ck.optimizer.kind = parse_optimizer(o["optimizer"].get<std::string>());
    ck.optimizer.lr = per_network_field(o, "lr");
    if (!o.contains("betas") || !o["betas"].is_array() || o["betas"].size() != 2)
      throw InvalidArgument("betas", "[beta1, beta2]", o.contains("betas") ? detail::brief(o["betas"]) : "none");
    ck.optimizer.beta1 = as_number(o["betas"][0], "beta1");
    ck.optimizer.beta2 = as_number(o["betas"][1], "beta2");
    ck.optimizer.eps = number_field(o, "eps");
    ck.optimizer.momentum = per_network_field(o, "momentum");
    ck.optimizer.weight_decay = per_network_field(o, "weight_decay");
    ck.optimizer.clip_grad_norm = per_network_field(o, "clip_grad_norm");
    ck.optimizer.validate("", E);
    const json lw = detail::parse_json_input(meta(f, "loss_weights", path), "loss_weights");
    if (!lw.is_object()) throw InvalidArgument("loss_weights", "an object", detail::brief(lw));
    for (int k = 0; k < kNumLossTerms; ++k)
      ck.loss_weights.lambda[k] = per_network_field(lw, std::string("lambda_") + kLossTermNames[k]);
    ck.loss_weights.validate("", E);
  } catch (const InvalidArgument& e) {
    refuse(path, "its optimizer metadata is invalid: " + reason_of(e));
  }
}

// The networks that had diverged: E flags 0 or 1, not all 1 (the trainer stops before that);
// none in a checkpoint written before the flags existed.
std::vector<bool> read_diverged(const SafetensorsFile& f, int64_t E, const std::string& path) {
  if (!f.metadata.count("diverged")) return {};
  const std::string& text = f.metadata.at("diverged");
  json d;
  try {
    d = detail::parse_json_input(text, "diverged");
  } catch (const InvalidArgument& e) {
    refuse(path, "metadata 'diverged' is invalid: " + reason_of(e));
  }
  std::vector<bool> flags;
  if (d.is_array() && int64_t(d.size()) == E)
    for (const json& x : d)
      if (x.is_number_integer() && (x.get<int64_t>() == 0 || x.get<int64_t>() == 1)) flags.push_back(x.get<int64_t>() == 1);
  if (int64_t(flags.size()) != E || std::find(flags.begin(), flags.end(), false) == flags.end())
    refuse(path, "metadata 'diverged' is '" + text.substr(0, 80) + "', expected " + std::to_string(E) +
                     " flags 0 or 1 (one per network), not all 1");
  return flags;
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path, Device device) {
  SafetensorsFile f;
  try {
    f = SafetensorsFile::read(path);
  } catch (const FileError& e) {
    refuse(path, reason_of(e));
  }
  if (!f.metadata.count("format") || f.metadata.at("format") != kCheckpointFormat)
    refuse(path, "not a ctrnn checkpoint (no format = " + std::string(kCheckpointFormat) + " in its metadata)");
  const uint64_t version = meta_unsigned(f, "format_version", path);
  if (version != uint64_t(kCheckpointVersion))
    refuse(path, "format version " + std::to_string(version) + " (this build reads version " +
                     std::to_string(kCheckpointVersion) + ")");
  Config c;
  try {
    c = config_from_json(meta(f, "config", path), ".", &f);
  } catch (const InvalidArgument& e) {
    refuse(path, "its config is invalid: " + reason_of(e));
  }
  const Mode mode = parse_mode(f, path);
  const uint64_t forward_calls = meta_unsigned(f, "forward_calls", path, UINT64_MAX);
  // Callers parse metadata as JSON (the task, the run record): refuse hostile nesting here, once.
  for (const auto& [key, value] : f.metadata) {
    try {
      detail::check_json_depth(value, key);
    } catch (const InvalidArgument& e) {
      refuse(path, "metadata '" + key + "' is invalid: " + reason_of(e));
    }
  }
  const std::vector<double> config_alpha = c.alpha();
  const Params<float> p =
      read_params(f, "params.", c, path, std::vector<float>(config_alpha.begin(), config_alpha.end()));
  Checkpoint ck{Network(c, device), std::nullopt, {}, {}, f.metadata, {}};
  Network& net = ck.network;
  for (int l = 0; l < 3; ++l) {
    const Layer layer = Layer(l);
    net.set_weight(layer, Tensor<float>(param_shape(kWIn + l, c), p.weight(layer)));
    if (net.bias_learnable(layer)) net.set_bias(layer, Tensor<float>(param_shape(kBIn + l, c), p.bias(layer)));
  }
  if (net.h0_learnable()) net.set_initial_state(Tensor<float>(param_shape(kH0, c), p.h0));
  if (param_learned(c, kAlpha)) {  // otherwise the network's alpha is the config's, as stored
    for (float a : p.alpha)
      if (!(a >= float(c.alpha_min()) && a <= 1.0f))
        refuse(path, "tensor 'params.alpha' holds " + detail::number_text(a) + ", outside [dt / tau_max, 1] = [" +
                         detail::number_text(c.alpha_min()) + ", 1]");
    const Tensor<float> alpha(param_shape(kAlpha, c), p.alpha);
    std::array<const View*, kNumParamArrays> src{};
    const View view = detail::tensor_view(alpha, "alpha");
    src[kAlpha] = &view;
    net.set_params(src);
  }
  net.set_forward_calls(forward_calls);
  if (mode == Mode::Eval) net.eval();
  if (f.contains("state.kept_v")) {
    if (c.init_state != InitState::Keep) refuse(path, "a kept state without init_state 'keep'");
    try {
      net.set_kept_state(f.get<float>("state.kept_v"));
    } catch (const InvalidArgument& e) {
      refuse(path, reason_of(e));
    }
  }
  if (f.metadata.count("step")) {
    TrainerState<float> s;
    s.step = int64_t(meta_unsigned(f, "step", path));
    const std::vector<float> zeros(size_t(c.ensemble_size * c.dims[1]), 0.0f);
    s.m = read_params(f, "optimizer.m.", c, path, zeros);
    s.v = read_params(f, "optimizer.v.", c, path, zeros);
    s.diverged = read_diverged(f, c.ensemble_size, path);
    ck.trainer_state = std::move(s);
    read_optimizer(f, path, c.ensemble_size, ck);
    if (ck.optimizer.kind == OptimizerConfig::Kind::Adam) {  // a negative second moment trains into NaN
      const auto v = ck.trainer_state->v.arrays();
      for (size_t a = 0; a < v.size(); ++a)
        for (size_t i = 0; i < v[a]->size(); ++i)
          if ((*v[a])[i] < 0)
            refuse(path, "tensor 'optimizer.v." + std::string(kParamNames[a]) + "' holds " +
                             detail::number_text((*v[a])[i]) + " at flat index " + std::to_string(i) +
                             " (Adam's second moment is >= 0)");
    }
  }
  const auto saved_on = f.metadata.find("computed_on");
  if (saved_on != f.metadata.end() && without_thread_count(saved_on->second) != without_thread_count(net.device_description()))
    ck.warnings.push_back("'" + path + "' was computed on " + saved_on->second + " and continues on " +
                          net.device_description() + ": training from it will not reproduce an uninterrupted run "
                          "bit for bit");
  return ck;
}

uint64_t Checkpoint::metadata_unsigned(const std::string& key, uint64_t fallback, uint64_t min) const {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return fallback;
  const auto v = parse_unsigned(it->second);
  if (!v || *v < min)
    throw InvalidArgument("checkpoint", "metadata '" + key + "' to be an integer >= " + std::to_string(min),
                          "'" + it->second + "'");
  return *v;
}

}  // namespace ctrnn
