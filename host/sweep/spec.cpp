// SWEEP.json: checked, normalized and planned into packs (docs/contract.md "Sweeps").
#include "sweep/spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ctrnn/error.hpp"
#include "ctrnn/per_network.hpp"
#include "ctrnn/train_config.hpp"
#include "json_input.hpp"

namespace ctrnn::detail {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// At most this many networks per sweep: planning and sweep.json grow with it (the engine's own
// limit, first_network + E <= 2^24, is 16 times larger).
constexpr int64_t kMaxNetworks = int64_t(1) << 20;
const char* const kDrawn[] = {"uniform", "log_uniform", "choice"};
const std::string kSpaceValue = "a non-empty list of values (a grid) or {\"uniform\": [lo, hi]}, "
                                "{\"log_uniform\": [lo, hi]} or {\"choice\": [values]} (drawn)";

std::vector<std::string> split_path(const std::string& name) {
  std::vector<std::string> parts;
  std::stringstream s(name);
  std::string part;
  while (std::getline(s, part, '.')) parts.push_back(part);
  if (name.empty() || name.back() == '.') parts.emplace_back();  // "" and "a." end in an empty part
  return parts;
}

// The value at a dotted path, or null when absent.
const json* find(const json& j, const std::vector<std::string>& path) {
  const json* at = &j;
  for (const std::string& p : path) {
    if (!at->is_object() || !at->contains(p)) return nullptr;
    at = &(*at)[p];
  }
  return at;
}

void set(json& j, const std::vector<std::string>& path, const json& value) {
  json* at = &j;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!at->contains(path[i]) || !(*at)[path[i]].is_object()) (*at)[path[i]] = json::object();
    at = &(*at)[path[i]];
  }
  (*at)[path.back()] = value;
}

// Relative file paths of a config (array files, the task's data files) made absolute, so that a
// pack's config works from its own folder.
void absolutize(json& config, const fs::path& dir) {
  const auto fix = [&](json& s) {
    if (s.is_string() && !s.get<std::string>().empty() && fs::path(s.get<std::string>()).is_relative())
      s = (dir / s.get<std::string>()).lexically_normal().string();
  };
  std::function<void(json&)> walk = [&](json& x) {
    if (x.is_object()) {
      if (x.contains("file") && x.contains("tensor")) fix(x["file"]);
      for (auto& [k, v] : x.items()) walk(v);
    } else if (x.is_array()) {
      for (auto& v : x) walk(v);
    }
  };
  walk(config);
  if (config.contains("task") && config["task"].is_object())
    for (const char* key : {"data", "val_data"})
      if (config["task"].contains(key)) fix(config["task"][key]);
}

int64_t integer(const json& spec, const std::string& key, int64_t fallback, int64_t min) {
  if (!spec.contains(key)) return fallback;
  const json& v = spec[key];
  const std::string expected = "an integer >= " + std::to_string(min);
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
    throw InvalidArgument(key, expected, brief(v));
  if (v.get<int64_t>() < min) throw InvalidArgument(key, expected, brief(v));
  return v.get<int64_t>();
}

// One parameter of the space: a grid (values) or a draw (kind, args).
struct Parameter {
  std::string name;
  std::vector<std::string> path;
  json values;       // grid values (an array), or the choice's values
  std::string kind;  // "" for a grid, else one of kDrawn
  double lo = 0, hi = 0;
};

Parameter parse_parameter(const std::string& name, const json& v) {
  Parameter p;
  p.name = name;
  p.path = split_path(name);
  if (name.empty())
    throw InvalidArgument("space", "parameters named by config keys as dotted paths (\"training.lr\")", "an empty name");
  const std::string key = "space." + name;
  for (const std::string& part : p.path)
    if (part.empty()) throw InvalidArgument(key, "a config key as a dotted path (\"training.lr\")", "an empty part");
  if (name == "ensemble_size" || name == "first_network")
    throw InvalidArgument(key, "a parameter of the networks (the sweep sets ensemble_size and first_network)", name);
  if (v.is_array()) {
    if (v.empty()) throw InvalidArgument(key, kSpaceValue, "an empty list");
    p.values = v;
  } else if (v.is_object() && v.size() == 1) {
    p.kind = v.begin().key();
    const json& args = v.begin().value();
    if (p.kind == "choice") {
      if (!args.is_array() || args.empty()) throw InvalidArgument(key + ".choice", "a non-empty list of values", brief(args));
      p.values = args;
    } else if (p.kind == "uniform" || p.kind == "log_uniform") {
      if (!args.is_array() || args.size() != 2 || !args[0].is_number() || !args[1].is_number())
        throw InvalidArgument(key + "." + p.kind, "[lo, hi], two numbers", brief(args));
      p.lo = args[0].get<double>();
      p.hi = args[1].get<double>();
      const bool log = p.kind == "log_uniform";
      if (!(p.lo <= p.hi) || (log && !(p.lo > 0)))
        throw InvalidArgument(key + "." + p.kind, log ? "0 < lo <= hi" : "lo <= hi", brief(args));
    } else {
      throw InvalidArgument(key, kSpaceValue, "{\"" + p.kind + "\": ...}");
    }
  } else {
    throw InvalidArgument(key, kSpaceValue, brief(v));
  }
  return p;
}

// A uniform number in [0, 1) from (seed, point, parameter): splitmix64 of their mix, 53 bits.
// Written out so that a seed draws the same values on every platform and compiler.
double uniform01(uint64_t seed, uint64_t point, uint64_t parameter) {
  uint64_t x = seed ^ (point * 0x9E3779B97F4A7C15ull) ^ (parameter * 0xD1B54A32D192ED03ull);
  for (int round = 0; round < 2; ++round) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
  }
  return double(x >> 11) * 0x1.0p-53;
}

json draw(const Parameter& p, uint64_t seed, uint64_t point, uint64_t parameter) {
  const double u = uniform01(seed, point, parameter);
  if (p.kind == "choice") return p.values[size_t(u * double(p.values.size()))];
  if (p.kind == "uniform") return p.lo + u * (p.hi - p.lo);
  return std::exp(std::log(p.lo) + u * (std::log(p.hi) - std::log(p.lo)));
}

std::string read_text(const fs::path& path, const std::string& key) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw InvalidArgument(key, "a config file (relative to the spec's folder)", "'" + path.string() + "': no such file");
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  if (!in) throw InvalidArgument(key, "a readable config file", "'" + path.string() + "'");
  return s.str();
}

// The base config as an object with absolute paths.
json load_base(const json& spec, const std::string& base_dir) {
  if (!spec.contains("base")) throw InvalidArgument("base", "a training config (an object, or a file name)", "none");
  json base;
  fs::path dir = fs::absolute(base_dir);
  if (spec["base"].is_string()) {
    const fs::path path = dir / spec["base"].get<std::string>();
    base = parse_json_input(read_text(path, "base"), "base");
    dir = path.parent_path();
  } else {
    base = spec["base"];
  }
  if (!base.is_object()) throw InvalidArgument("base", "a training config (an object, or a file name)", brief(base));
  if (base.contains("ensemble_size") && base["ensemble_size"] != json(1))
    throw InvalidArgument("base.ensemble_size", "1 or absent (the sweep sets each pack's)", brief(base["ensemble_size"]));
  if (base.contains("first_network") && base["first_network"] != json(0))
    throw InvalidArgument("base.first_network", "0 or absent (the sweep sets each pack's)", brief(base["first_network"]));
  for (const std::string& k : per_network_keys())
    if (const json* v = find(base, split_path(k)); v && v->is_object() && v->contains("per_network"))
      throw InvalidArgument("base." + k, "one value for every network (the sweep makes the per-network lists)", brief(*v));
  absolutize(base, dir);
  return base;
}

}  // namespace

std::string pack_folder(int64_t pack) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "packs/%03lld", (long long)pack);
  return buf;
}

SweepSpec parse_sweep_spec(const std::string& spec_text, const std::string& base_dir) {
  const json spec = parse_json_input(spec_text, "SWEEP.json");
  if (!spec.is_object()) throw InvalidArgument("SWEEP.json", "an object with base, space, seeds, pack_size", brief(spec));
  for (const auto& [key, v] : spec.items()) {
    (void)v;
    if (key != "base" && key != "space" && key != "samples" && key != "seed" && key != "seeds" && key != "pack_size")
      throw InvalidArgument(key, "one of base, space, samples, seed, seeds, pack_size", "unknown key");
  }
  const json base = load_base(spec, base_dir);
  if (!spec.contains("space") || !spec["space"].is_object() || spec["space"].empty())
    throw InvalidArgument("space", "an object of at least one parameter (\"training.lr\": [0.001, 0.01])",
                          spec.contains("space") ? brief(spec["space"]) : "none");
  std::vector<Parameter> grid, drawn;
  std::vector<std::string> names;
  for (const auto& [name, v] : spec["space"].items()) {
    Parameter p = parse_parameter(name, v);
    (p.kind.empty() ? grid : drawn).push_back(std::move(p));
    names.push_back(name);
  }
  if (drawn.empty() && spec.contains("samples"))
    throw InvalidArgument("samples", "a drawn parameter in the space (uniform, log_uniform or choice) to draw samples of",
                          "only grid parameters");
  const int64_t samples = integer(spec, "samples", 1, 1);
  const int64_t seed = integer(spec, "seed", 0, 0);
  const int64_t seeds = integer(spec, "seeds", 1, 1);
  const int64_t pack_size = integer(spec, "pack_size", 64, 1);

  int64_t combinations = 1;
  for (const Parameter& p : grid) {
    combinations *= int64_t(p.values.size());
    if (combinations > kMaxNetworks) break;
  }
  const int64_t points = combinations * samples;
  if (combinations > kMaxNetworks || points > kMaxNetworks || points * seeds > kMaxNetworks)
    throw InvalidArgument("space", "at most 2^20 networks (points x seeds)", "more");

  SweepSpec out;
  out.normalized = {{"base", base}, {"space", spec["space"]}, {"samples", samples},
                    {"seed", seed},  {"seeds", seeds},        {"pack_size", pack_size}};
  out.plan.parameters = names;

  // Every point's values; its networks grouped by the values that are not per-network numbers
  // (the base is the same for all). Configs are made per pack, not per point.
  const auto is_packable = [](const std::string& name, const json& v) {
    const auto& keys = per_network_keys();
    return v.is_number() && std::find(keys.begin(), keys.end(), name) != keys.end();
  };
  struct Member {
    int64_t point, seed;
  };
  std::vector<std::vector<json>> values(static_cast<size_t>(points));  // in `names` order
  std::map<std::string, size_t> group_of;
  std::vector<std::vector<Member>> groups;
  for (int64_t point = 0; point < points; ++point) {
    std::map<std::string, json> at;
    int64_t rest = point / samples;  // the grid combination; the last parameter varies fastest
    for (size_t i = grid.size(); i-- > 0;) {
      const int64_t n = int64_t(grid[i].values.size());
      at[grid[i].name] = grid[i].values[size_t(rest % n)];
      rest /= n;
    }
    for (size_t j = 0; j < drawn.size(); ++j) at[drawn[j].name] = draw(drawn[j], uint64_t(seed), uint64_t(point), j);
    json key = json::array();
    for (const std::string& name : names) {
      values[size_t(point)].push_back(at[name]);
      if (!is_packable(name, at[name])) key.push_back({name, at[name]});
    }
    const auto [it, added] = group_of.emplace(key.dump(), groups.size());
    if (added) groups.emplace_back();
    for (int64_t s = 0; s < seeds; ++s) groups[it->second].push_back({point, s});
  }

  int64_t next = 0;
  for (const auto& members : groups) {
    for (size_t start = 0; start < members.size(); start += size_t(pack_size)) {
      const size_t end = std::min(members.size(), start + size_t(pack_size));
      SweepPack pack;
      pack.index = int64_t(out.plan.packs.size());
      pack.dir = pack_folder(pack.index);
      json c = base;
      for (size_t i = 0; i < names.size(); ++i) {
        // The networks' values: one for all, or (per-network numbers only, by the grouping) a list.
        std::vector<json> per;
        bool differ = false;
        for (size_t m = start; m < end; ++m) {
          per.push_back(values[size_t(members[m].point)][i]);
          differ = differ || per.back() != per.front();
        }
        set(c, split_path(names[i]), differ ? json{{"per_network", per}} : per.front());
      }
      c["ensemble_size"] = int64_t(end - start);
      c["first_network"] = next;
      pack.config_text = c.dump(2);
      for (size_t m = start; m < end; ++m) {
        SweepNetwork n;
        n.index = next++;
        n.point = members[m].point;
        n.seed = members[m].seed;
        n.pack = pack.index;
        n.index_in_pack = int64_t(m - start);
        for (size_t i = 0; i < names.size(); ++i) n.values.emplace_back(names[i], values[size_t(n.point)][i].dump());
        pack.networks.push_back(std::move(n));
      }
      // Every pack's config must load, so that no bad spec is found after packs have run.
      try {
        const TrainConfig tc = parse_train_config(pack.config_text, ".");
        tc.make_task();
      } catch (const InvalidArgument& e) {
        std::string named = "base";
        for (const std::string& name : names)
          if (e.parameter() == name || e.parameter().rfind(name + ".", 0) == 0 || name.rfind(e.parameter() + ".", 0) == 0)
            named = "space." + name;
        throw InvalidArgument(named, "a config that loads (in pack " + std::to_string(pack.index) + ")", reason_of(e));
      } catch (const FileError& e) {
        throw InvalidArgument("base", "a config that loads (in pack " + std::to_string(pack.index) + ")", reason_of(e));
      }
      out.plan.packs.push_back(std::move(pack));
    }
  }
  out.plan.networks = next;
  return out;
}

}  // namespace ctrnn::detail
