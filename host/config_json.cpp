#include "ctrnn/config_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "ctrnn/error.hpp"
#include "config_json_context.hpp"
#include "ctrnn/safetensors.hpp"
#include "json_input.hpp"
#include "per_network_json.hpp"

namespace ctrnn {

using nlohmann::json;
using detail::brief;
using detail::JsonConfigContext;

namespace {

const std::set<std::string> kNetworkKeys{"dims",         "activation",     "biases",         "weights",
                                         "tau",          "dt",             "preact_noise",   "postact_noise",
                                         "init_state",   "sparsity_masks", "ei_masks",       "plasticity_masks",
                                         "synapse_growth_masks", "seed",   "ensemble_size",  "self_connections",
                                         "first_network", "learn_tau",     "tau_max",        "tau_plasticity"};

// Nested lists of numbers -> Array (row-major), all sublists the same length.
void flatten(const json& v, const std::string& key, size_t depth, Shape& shape, std::vector<double>& out) {
  if (v.is_number()) {
    if (depth != shape.size()) throw InvalidArgument(key, "a rectangular array of numbers", "ragged nesting");
    out.push_back(v.get<double>());
    return;
  }
  if (!v.is_array()) throw InvalidArgument(key, "an array of numbers", brief(v));
  if (depth == shape.size()) {
    if (!out.empty()) throw InvalidArgument(key, "a rectangular array of numbers", "ragged nesting");
    shape.push_back(int64_t(v.size()));
  } else if (shape[depth] != int64_t(v.size())) {
    throw InvalidArgument(key, "a rectangular array (every row of length " + std::to_string(shape[depth]) + ")",
                          "a row of length " + std::to_string(v.size()));
  }
  for (const auto& x : v) flatten(x, key, depth + 1, shape, out);
}

Array parse_array(const json& v, const std::string& key, const JsonConfigContext& ctx) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it.key() != "file" && it.key() != "tensor")
        throw InvalidArgument(key, "an array reference with keys 'file' and 'tensor'", "key '" + it.key() + "'");
    if (!v.contains("tensor") || !v["tensor"].is_string())
      throw InvalidArgument(key, "{\"file\": \"X.safetensors\", \"tensor\": \"NAME\"}", brief(v));
    const std::string tensor = v["tensor"].get<std::string>();
    try {
      if (v.contains("file")) {
        if (!v["file"].is_string()) throw InvalidArgument(key, "a file name string", brief(v["file"]));
        std::string path = v["file"].get<std::string>();
        if (!path.empty() && path[0] != '/') path = ctx.base_dir + "/" + path;
        return SafetensorsFile::read(path).get<double>(tensor);
      }
      if (!ctx.tensors) throw InvalidArgument(key, "a \"file\" for tensor '" + tensor + "'", brief(v));
      return ctx.tensors->get<double>(tensor);
    } catch (const FileError& e) {
      throw InvalidArgument(key, "a readable tensor", reason_of(e));
    }
  }
  Array a;
  flatten(v, key, 0, a.shape, a.data);
  if (a.shape.empty()) throw InvalidArgument(key, "an array", brief(v));
  return a;
}

// One value or a list of three, per layer.
std::array<const json*, 3> per_layer(const json& v, const std::string& key) {
  if (v.is_array() && v.size() == 3) {
    bool all_layer_values = true;
    for (const auto& x : v) all_layer_values = all_layer_values && !x.is_number_float();
    if (all_layer_values) return {&v[0], &v[1], &v[2]};
  }
  if (v.is_array())
    throw InvalidArgument(key, "one value for all layers or a list of three (one per layer)", brief(v));
  return {&v, &v, &v};
}

std::string layer_key(const std::string& key, int l) { return key + "[" + std::to_string(l) + "]"; }

InitSpec parse_init(const json& v, const std::string& key, const JsonConfigContext& ctx) {
  if (v.is_null()) return InitSpec::none();
  if (v.is_number_integer() && v.get<int64_t>() == 0) return InitSpec::zero();  // nn4n: 'zero' or 0
  if (v.is_string()) return InitSpec::parse(v.get<std::string>(), key);
  if (v.is_array() || v.is_object()) return InitSpec::from(parse_array(v, key, ctx));
  throw InvalidArgument(key, "null, 0, 'zero', 'uniform', 'normal' or an array", brief(v));
}

double parse_number(const json& v, const std::string& key) {
  if (!v.is_number()) throw InvalidArgument(key, "a number", brief(v));
  return v.get<double>();
}

int64_t parse_integer(const json& v, const std::string& key) {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
    throw InvalidArgument(key, "an integer within 64 bits", brief(v));
  return v.get<int64_t>();
}

std::string parse_string(const json& v, const std::string& key) {
  if (!v.is_string()) throw InvalidArgument(key, "a string", brief(v));
  return v.get<std::string>();
}

LayerMasks parse_masks(const json& v, const std::string& key, const JsonConfigContext& ctx) {
  LayerMasks m;
  if (v.is_null()) return m;
  if (!v.is_array() || v.size() != 3)
    throw InvalidArgument(key, "null or a list of three (null or an array per layer)", brief(v));
  for (int l = 0; l < 3; ++l)
    if (!v[l].is_null()) m[l] = parse_array(v[l], layer_key(key, l), ctx);
  return m;
}

}  // namespace

Config detail::config_from_json(const std::string& json_text, const JsonConfigContext& ctx) {
  const json j = detail::parse_json_input(json_text, "config");
  if (!j.is_object()) throw InvalidArgument("config", "a JSON object", brief(j));
  Config c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = *it;
    if (ctx.other_sections.count(key)) continue;
    if (!kNetworkKeys.count(key)) throw InvalidArgument(key, "a known parameter (unknown keys are not ignored)", "unknown key");
    if (key == "dims") {
      if (!v.is_array() || v.size() != 3) throw InvalidArgument("dims", "three positive integers [I, H, O]", brief(v));
      for (int i = 0; i < 3; ++i) c.dims[i] = parse_integer(v[i], "dims");
    } else if (key == "activation") {
      c.activation = parse_activation(parse_string(v, key));
    } else if (key == "biases" || key == "weights") {
      const auto layers = per_layer(v, key);
      LayerInits& inits = key == "biases" ? c.biases : c.weights;
      for (int l = 0; l < 3; ++l) inits[l] = parse_init(*layers[l], layer_key(key, l), ctx);
    } else if (key == "tau") {
      c.tau = detail::time_constants_from_json(v, key);
    } else if (key == "dt") {
      c.dt = parse_number(v, key);
    } else if (key == "preact_noise") {
      c.preact_noise = detail::per_network_from_json(v, key);
    } else if (key == "postact_noise") {
      c.postact_noise = detail::per_network_from_json(v, key);
    } else if (key == "init_state") {
      c.init_state = parse_init_state(parse_string(v, key));
    } else if (key == "sparsity_masks") {
      c.sparsity_masks = parse_masks(v, key, ctx);
    } else if (key == "ei_masks") {
      c.ei_masks = parse_masks(v, key, ctx);
    } else if (key == "plasticity_masks") {
      c.plasticity_masks = parse_masks(v, key, ctx);
    } else if (key == "synapse_growth_masks") {
      c.synapse_growth_masks = parse_masks(v, key, ctx);
    } else if (key == "seed") {
      if (!v.is_number_unsigned()) throw InvalidArgument("seed", "an integer >= 0", brief(v));
      c.seed = v.get<uint64_t>();
    } else if (key == "ensemble_size") {
      c.ensemble_size = parse_integer(v, key);
    } else if (key == "first_network") {
      if (!v.is_number_unsigned()) throw InvalidArgument(key, "an integer >= 0", brief(v));
      c.first_network = v.get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v.get<uint64_t>());
    } else if (key == "learn_tau") {
      if (!v.is_boolean()) throw InvalidArgument(key, "true or false (whether the time constants are learned)", brief(v));
      c.learn_tau = v.get<bool>();
    } else if (key == "tau_max") {
      if (!v.is_null()) c.tau_max = parse_number(v, key);  // null: the default
    } else if (key == "tau_plasticity") {
      if (!v.is_null()) {
        const Array a = parse_array(v, key, ctx);
        if (a.shape.size() != 1) throw InvalidArgument(key, "a list of numbers (one per hidden neuron)", "shape " + shape_to_string(a.shape));
        c.tau_plasticity = a.data;
      }
    } else if (key == "self_connections") {
      if (!v.is_boolean()) throw InvalidArgument(key, "true or false (whether a hidden neuron may connect to itself)", brief(v));
      c.self_connections = v.get<bool>();
    }
  }
  c.validate();
  return c;
}

Config config_from_json(const std::string& json_text, const std::string& base_dir, const SafetensorsFile* tensors) {
  JsonConfigContext ctx;
  ctx.base_dir = base_dir;
  ctx.tensors = tensors;
  return detail::config_from_json(json_text, ctx);
}

std::string config_to_json(const Config& c, SafetensorsFile& arrays) {
  auto array_ref = [&](const Array& a, const std::string& name) {
    arrays.put("config." + name, a);
    return json{{"tensor", "config." + name}};
  };
  auto init = [&](const InitSpec& s, const std::string& name) -> json {
    if (s.kind == InitSpec::Kind::None) return nullptr;
    if (s.kind == InitSpec::Kind::Array) return array_ref(s.array, name);
    return to_string(s.kind);
  };
  auto masks = [&](const LayerMasks& m, const std::string& key) -> json {
    if (!m[0] && !m[1] && !m[2]) return nullptr;
    json out = json::array();
    for (int l = 0; l < 3; ++l) out.push_back(m[l] ? array_ref(*m[l], layer_key(key, l)) : json(nullptr));
    return out;
  };
  json j;
  j["dims"] = c.dims;
  j["activation"] = to_string(c.activation);
  j["biases"] = json::array();
  j["weights"] = json::array();
  for (int l = 0; l < 3; ++l) {
    j["biases"].push_back(init(c.biases[l], layer_key("biases", l)));
    j["weights"].push_back(init(c.weights[l], layer_key("weights", l)));
  }
  j["tau"] = detail::time_constants_json(c.tau);
  j["dt"] = c.dt;
  j["preact_noise"] = detail::per_network_json(c.preact_noise);
  j["postact_noise"] = detail::per_network_json(c.postact_noise);
  j["init_state"] = to_string(c.init_state);
  j["sparsity_masks"] = masks(c.sparsity_masks, "sparsity_masks");
  j["ei_masks"] = masks(c.ei_masks, "ei_masks");
  j["plasticity_masks"] = masks(c.plasticity_masks, "plasticity_masks");
  j["synapse_growth_masks"] = masks(c.synapse_growth_masks, "synapse_growth_masks");
  j["seed"] = c.seed;
  j["ensemble_size"] = c.ensemble_size;
  if (c.first_network != 0) j["first_network"] = c.first_network;  // absent: 0 (configs written before it)
  j["self_connections"] = c.self_connections;
  // Absent: false, the default bound, ones (configs written before they existed, and the run
  // identity of runs that do not learn tau, are unchanged).
  if (c.learn_tau) j["learn_tau"] = true;
  if (c.tau_max) j["tau_max"] = *c.tau_max;
  if (!c.tau_plasticity.empty()) j["tau_plasticity"] = c.tau_plasticity;
  return j.dump();
}

}  // namespace ctrnn
