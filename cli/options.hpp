#pragma once
// What every command shares: strict numbers, message hygiene.
#include <cstdint>
#include <string>

#include "ctrnn/config.hpp"
#include "ctrnn/tensor.hpp"

namespace ctrnn::cli {

// The whole text as a decimal integer in [lo, hi]; anything else ("abc", "5x", "1e9", "",
// " 5") is refused with InvalidArgument naming `option`.
int64_t parse_integer(const std::string& text, const std::string& option, int64_t lo, int64_t hi);

// read_run_inputs for the --inputs option of `run` and `fixed-points`: a file that cannot be
// read is refused as InvalidArgument naming the option (the library's FileError does not).
Tensor<float> read_inputs_option(const std::string& path, const Config& c);

// A message as printed: exactly one leading "ctrnn: " and bytes that are not valid UTF-8 (or
// are control characters) written as \xNN.
std::string printable_message(const std::string& message);

}  // namespace ctrnn::cli
