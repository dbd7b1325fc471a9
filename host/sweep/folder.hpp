#pragma once
// The sweep folder's small text files (sweep.json, packs/NNN/config.json, outcome.txt,
// results.csv), each replaced atomically.
#include <string>

namespace ctrnn::detail {

// Writes `text` to `path` through a temporary file beside it, synced and renamed over it.
// Throws WriteError when that fails.
void write_text_atomically(const std::string& path, const std::string& text);

// The whole file; throws InvalidArgument(what) naming it when it cannot be read.
std::string read_text_file(const std::string& path, const std::string& what);

}  // namespace ctrnn::detail
