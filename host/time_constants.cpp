#include "ctrnn/time_constants.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "ctrnn/error.hpp"
#include "number_text.hpp"
#include "per_network_json.hpp"

namespace ctrnn {

using nlohmann::json;

namespace {

std::string forms(int64_t E, int64_t H) {
  return "one number for all, " + std::to_string(H) + " numbers (one per hidden neuron), {\"per_network\": [" +
         std::to_string(E) + " numbers]} or {\"per_network\": [" + std::to_string(E) + " lists of " +
         std::to_string(H) + "]}";
}

}  // namespace

TimeConstants TimeConstants::each_network(std::vector<double> tau) {
  if (tau.empty()) throw InvalidArgument("tau", "at least one value per network", "none");
  TimeConstants t;
  t.values_ = std::move(tau);
  t.per_network_ = true;
  return t;
}

TimeConstants TimeConstants::each_neuron(std::vector<double> tau) {
  if (tau.empty()) throw InvalidArgument("tau", "at least one value per neuron", "an empty list");
  TimeConstants t;
  t.neurons_ = int64_t(tau.size());
  t.values_ = std::move(tau);
  t.per_neuron_ = true;
  return t;
}

TimeConstants TimeConstants::each_network_neuron(const std::vector<std::vector<double>>& tau) {
  if (tau.empty() || tau[0].empty()) throw InvalidArgument("tau", "per network, a non-empty list of values per neuron", "none");
  TimeConstants t;
  t.neurons_ = int64_t(tau[0].size());
  t.values_.clear();
  for (size_t e = 0; e < tau.size(); ++e) {
    if (int64_t(tau[e].size()) != t.neurons_)
      throw InvalidArgument("tau", "every network's list of the same length (" + std::to_string(t.neurons_) + ")",
                            std::to_string(tau[e].size()) + " values for network " + std::to_string(e));
    t.values_.insert(t.values_.end(), tau[e].begin(), tau[e].end());
  }
  t.per_network_ = t.per_neuron_ = true;
  return t;
}

void TimeConstants::check(int64_t E, int64_t H, double dt) const {
  if (per_network_ && networks() != E)
    throw InvalidArgument("tau", forms(E, H), "per-network values for " + std::to_string(networks()) + " networks");
  if (per_neuron_ && neurons_ != H)
    throw InvalidArgument("tau", forms(E, H),
                          per_network_ ? "per-network lists of " + std::to_string(neurons_) + " values"
                                       : "a list of " + std::to_string(neurons_) + " values");
  const int64_t rows = networks();
  for (int64_t e = 0; e < rows; ++e)
    for (int64_t h = 0; h < neurons_; ++h) {
      const double tau = values_[size_t(e * neurons_ + h)];
      if (std::isfinite(tau) && tau > 0 && dt / tau > 0 && dt / tau <= 1) continue;
      std::string where;
      if (per_network_) where = " for network " + std::to_string(e);
      if (per_neuron_) where += std::string(per_network_ ? "," : " for") + " neuron " + std::to_string(h);
      throw InvalidArgument("tau", "a finite number > 0 with alpha = dt / tau in (0, 1] (tau >= dt = " +
                                       detail::number_text(dt) + ")",
                            detail::number_text(tau) + where);
    }
}

std::vector<double> TimeConstants::alpha(int64_t E, int64_t H, double dt) const {
  std::vector<double> a(size_t(E * H));
  for (int64_t e = 0; e < E; ++e)
    for (int64_t h = 0; h < H; ++h) a[size_t(e * H + h)] = dt / at(e, h);
  return a;
}

namespace detail {

json time_constants_json(const TimeConstants& t) {
  if (!t.per_network()) return t.per_neuron() ? json(t.values()) : json(t.values()[0]);
  if (!t.per_neuron()) return json{{"per_network", t.values()}};
  json rows = json::array();
  for (int64_t e = 0; e < t.networks(); ++e)
    rows.push_back(std::vector<double>(t.values().begin() + e * t.neurons(), t.values().begin() + (e + 1) * t.neurons()));
  return json{{"per_network", rows}};
}

TimeConstants time_constants_from_json(const json& v, const std::string& key) {
  const std::string expected =
      "a number, a list of numbers (one per hidden neuron), or {\"per_network\": [one number or one list per network]}";
  auto numbers = [&](const json& list) {
    std::vector<double> out;
    if (!list.is_array() || list.empty()) throw InvalidArgument(key, expected, brief(v));
    for (const json& x : list) {
      if (!x.is_number()) throw InvalidArgument(key, expected, brief(v));
      out.push_back(x.get<double>());
    }
    return out;
  };
  if (v.is_number()) return v.get<double>();
  if (v.is_array()) return TimeConstants::each_neuron(numbers(v));
  if (!v.is_object() || v.size() != 1 || !v.contains("per_network") || !v["per_network"].is_array() ||
      v["per_network"].empty())
    throw InvalidArgument(key, expected, brief(v));
  const json& rows = v["per_network"];
  if (!rows[0].is_array()) return TimeConstants::each_network(numbers(rows));
  std::vector<std::vector<double>> table;
  for (const json& row : rows) table.push_back(numbers(row));
  return TimeConstants::each_network_neuron(table);
}

}  // namespace detail

}  // namespace ctrnn
