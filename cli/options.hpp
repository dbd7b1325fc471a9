#pragma once
// What every command shares: strict numbers, message hygiene.
#include <cstdint>
#include <string>

namespace ctrnn::cli {

// The whole text as a decimal integer in [lo, hi]; anything else ("abc", "5x", "1e9", "",
// " 5") is refused with InvalidArgument naming `option`.
int64_t parse_integer(const std::string& text, const std::string& option, int64_t lo, int64_t hi);

// A message as printed: exactly one leading "ctrnn: " and bytes that are not valid UTF-8 (or
// are control characters) written as \xNN.
std::string printable_message(const std::string& message);

}  // namespace ctrnn::cli
