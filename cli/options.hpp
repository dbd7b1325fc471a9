#pragma once
// What every command shares: strict numbers, the output error class, message hygiene.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace ctrnn::cli {

// Output that could not be written although the input was fine (a full disk, an I/O error):
// exit code kIoError, so scripts can tell it from bad input.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole text as a decimal integer in [lo, hi]; anything else ("abc", "5x", "1e9", "",
// " 5") is refused with InvalidArgument naming `option`.
int64_t parse_integer(const std::string& text, const std::string& option, int64_t lo, int64_t hi);

// Refuses an output file path (`option`) whose folder does not exist or that names a folder,
// so that a later write failure is an I/O problem (OutputError), not bad input.
void check_output_file(const std::string& path, const std::string& option);

// A message as printed: exactly one leading "ctrnn: " and bytes that are not valid UTF-8 (or
// are control characters) written as \xNN.
std::string printable_message(const std::string& message);

}  // namespace ctrnn::cli
