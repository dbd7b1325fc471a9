#pragma once
// PerNetwork (ctrnn/per_network.hpp) as JSON: a number or {"per_network": [...]}.
#include <nlohmann/json.hpp>
#include <string>

#include "ctrnn/per_network.hpp"
#include "json_input.hpp"

namespace ctrnn::detail {

nlohmann::json per_network_json(const PerNetwork& v);
// Throws InvalidArgument naming `key` for anything but a number or {"per_network": [numbers]}.
PerNetwork per_network_from_json(const nlohmann::json& v, const std::string& key);

}  // namespace ctrnn::detail
