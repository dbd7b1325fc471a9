// The network config parser. A config it accepts must also survive the way checkpoints store it
// (config_to_json and back): that round trip is outside the guard, so any error there is a crash.
#include "ctrnn/config_json.hpp"
#include "ctrnn/safetensors.hpp"
#include "fuzz_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrnn;
  fuzz::expect_documented_errors_only([&] {
    Config c;
    try {
      c = config_from_json(fuzz::as_text(data, size), fuzz::kNoFolder);
    } catch (const InvalidArgument&) {
      return;
    }
    SafetensorsFile arrays;
    const std::string stored = config_to_json(c, arrays);
    config_from_json(stored, ".", &arrays);
  });
  return 0;
}
