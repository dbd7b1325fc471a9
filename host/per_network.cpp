#include "ctrnn/per_network.hpp"

#include <nlohmann/json.hpp>

#include "ctrnn/error.hpp"
#include "ctrnn/loss.hpp"
#include "per_network_json.hpp"

namespace ctrnn {

using nlohmann::json;

PerNetwork PerNetwork::each(std::vector<double> values) {
  if (values.empty()) throw InvalidArgument("per_network", "at least one value (one per network)", "none");
  PerNetwork p;
  p.values_ = std::move(values);
  p.per_network_ = true;
  return p;
}

bool PerNetwork::any_nonzero() const {
  for (double x : values_)
    if (x != 0) return true;
  return false;
}

void PerNetwork::check_size(const std::string& name, int64_t E) const {
  if (per_network_ && E > 0 && int64_t(values_.size()) != E)
    throw InvalidArgument(name, "one value for all networks or " + std::to_string(E) + " values (one per network)",
                          std::to_string(values_.size()) + " values");
}

void PerNetwork::refuse(const std::string& name, const std::string& expected, size_t e) const {
  const std::string value = json(values_[e]).dump();
  throw InvalidArgument(name, expected, per_network_ ? value + " for network " + std::to_string(e) : value);
}

const std::vector<std::string>& per_network_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k{"training.lr", "training.momentum", "training.weight_decay", "training.clip_grad_norm"};
    for (const char* term : kLossTermNames) k.push_back(std::string("loss.lambda_") + term);
    return k;
  }();
  return keys;
}

std::string to_json(const PerNetwork& v) { return detail::per_network_json(v).dump(); }

namespace detail {

json per_network_json(const PerNetwork& v) {
  if (!v.per_network()) return v[0];
  return json{{"per_network", v.values()}};
}

PerNetwork per_network_from_json(const json& v, const std::string& key) {
  if (v.is_number()) return v.get<double>();
  const std::string expected = "a number, or {\"per_network\": [one number per network]}";
  if (!v.is_object() || v.size() != 1 || !v.contains("per_network") || !v["per_network"].is_array() ||
      v["per_network"].empty())
    throw InvalidArgument(key, expected, brief(v));
  std::vector<double> values;
  for (const json& x : v["per_network"]) {
    if (!x.is_number()) throw InvalidArgument(key, expected, brief(v));
    values.push_back(x.get<double>());
  }
  return PerNetwork::each(std::move(values));
}

}  // namespace detail

}  // namespace ctrnn
