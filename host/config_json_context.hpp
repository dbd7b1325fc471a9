#pragma once
// The network config parser of ctrnn/config_json.hpp inside a larger JSON document: the `ctrnn
// train` file holds the network's keys beside sections the parser leaves to their owners.
#include <set>
#include <string>

#include "ctrnn/config.hpp"

namespace ctrnn {
class SafetensorsFile;
}  // namespace ctrnn

namespace ctrnn::detail {

struct JsonConfigContext {
  std::string base_dir = ".";                 // folder that "file" paths are relative to
  const SafetensorsFile* tensors = nullptr;   // file that {"tensor": N} refers to, if any
  std::set<std::string> other_sections;       // keys owned by someone else (e.g. "training")
};

// config_from_json of ctrnn/config_json.hpp, skipping the keys of ctx.other_sections.
Config config_from_json(const std::string& json_text, const JsonConfigContext& ctx);

}  // namespace ctrnn::detail
