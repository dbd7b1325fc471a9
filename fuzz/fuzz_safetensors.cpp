// The safetensors reader: any bytes, then every tensor read as each supported type.
#include "ctrnn/safetensors.hpp"
#include "fuzz_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrnn;
  fuzz::expect_documented_errors_only([&] {
    const SafetensorsFile f = SafetensorsFile::parse(fuzz::as_text(data, size), "fuzz input");
    for (const std::string& name : f.names()) {
      fuzz::expect_documented_errors_only([&] { f.get<float>(name); });
      fuzz::expect_documented_errors_only([&] { f.get<double>(name); });
      fuzz::expect_documented_errors_only([&] { f.get<int64_t>(name); });
    }
  });
  return 0;
}
