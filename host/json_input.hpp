#pragma once
// Parsing JSON that a user or a file hands over (configs, safetensors headers, checkpoint
// metadata): the one place that turns every malformed document into InvalidArgument.
#include <nlohmann/json.hpp>
#include <string>

namespace ctrnn::detail {

// Deeper nesting than any valid document needs (an (E, pre, post) array inside a per-layer list
// inside a section is 5 levels); refused before anything recursive runs on the document.
inline constexpr int kMaxJsonDepth = 32;

// Refuses (InvalidArgument naming `what`) text whose brackets outside strings nest deeper than
// kMaxJsonDepth: a flat pass, safe on any input.
void check_json_depth(const std::string& text, const std::string& what);

// Parses `text` strictly: nesting deeper than kMaxJsonDepth, a key repeated within one object,
// a number beyond double's range and any syntax error are refused with InvalidArgument naming
// the keys that lead to the problem ("training.lr"), or `what` where no key leads to it.
nlohmann::json parse_json_input(const std::string& text, const std::string& what);

// Whether `text` is valid UTF-8: what a JSON string may hold.
bool is_utf8(const std::string& text);

// At most 60 characters of a value, for error messages.
std::string brief(const nlohmann::json& v);

}  // namespace ctrnn::detail
