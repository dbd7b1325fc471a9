#include "options.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "ctrnn/error.hpp"
#include "ctrnn/run_inputs.hpp"

namespace ctrnn::cli {

int64_t parse_integer(const std::string& text, const std::string& option, int64_t lo, int64_t hi) {
  const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  bool digits = !text.empty();
  for (size_t i = 0; i < text.size(); ++i)
    digits = digits && (std::isdigit(static_cast<unsigned char>(text[i])) || (i == 0 && text[i] == '-' && text.size() > 1));
  if (!digits) throw InvalidArgument(option, expected, "'" + text + "'");
  errno = 0;
  const long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v < lo || v > hi) throw InvalidArgument(option, expected, "'" + text + "'");
  return v;
}

Tensor<float> read_inputs_option(const std::string& path, const Config& c) {
  try {
    return read_run_inputs(path, c);
  } catch (const FileError& e) {
    throw InvalidArgument("--inputs", "a readable safetensors file with a tensor 'u'", reason_of(e));
  }
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) >> 6) != 0x2) return 0;
  return n;
}

}  // namespace

std::string printable_message(const std::string& message) {
  // Library messages carry their own prefix, and wrapped ones repeat it: say it once.
  std::string text = message;
  for (size_t at; (at = text.find("ctrnn: ")) != std::string::npos;) text.erase(at, 7);
  // A hostile value (a 1 MB path or config string) is not echoed back whole: its start and the
  // message's end (what was expected comes first, the value last) are enough to recognise it.
  constexpr size_t kHead = 600, kTail = 200;
  if (text.size() > kHead + kTail + 100)
    text = text.substr(0, kHead) + " [... " + std::to_string(text.size() - kHead - kTail) + " bytes left out ...] " +
           text.substr(text.size() - kTail);
  std::string out = "ctrnn: ";
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace ctrnn::cli
