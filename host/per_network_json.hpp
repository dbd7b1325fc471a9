#pragma once
// PerNetwork (ctrnn/per_network.hpp) and TimeConstants (ctrnn/time_constants.hpp) as JSON: a number,
// {"per_network": [...]}, and for tau also a list over neurons.
#include <nlohmann/json.hpp>
#include <string>

#include "ctrnn/per_network.hpp"
#include "ctrnn/time_constants.hpp"
#include "json_input.hpp"

namespace ctrnn::detail {

nlohmann::json per_network_json(const PerNetwork& v);
// Throws InvalidArgument naming `key` for anything but a number or {"per_network": [numbers]}.
PerNetwork per_network_from_json(const nlohmann::json& v, const std::string& key);

nlohmann::json time_constants_json(const TimeConstants& t);
// Throws InvalidArgument naming `key` for anything but the forms of ctrnn/time_constants.hpp (lengths
// are checked against E and H by TimeConstants::check).
TimeConstants time_constants_from_json(const nlohmann::json& v, const std::string& key);

}  // namespace ctrnn::detail
