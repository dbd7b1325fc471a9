#pragma once
// Reading a whole file that a user hands over: only regular files (a device such as /dev/zero,
// a pipe or a folder would never end or is not data), and at most a given size.
#include <cstdint>
#include <string>

namespace ctrnn::detail {

// The file's bytes; throws FileError naming `path` and `what` ("config", "safetensors file")
// when it cannot be opened, is not a regular file, or is larger than `max_bytes`.
std::string read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes);

}  // namespace ctrnn::detail
