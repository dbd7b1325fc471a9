// The sweep spec (SWEEP.json): parsed, checked and planned into packs, each pack's config loaded.
// The folder lies where nothing can be created, so a valid spec ends in the folder's refusal.
#include "ctrnn/sweep.hpp"
#include "fuzz_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrnn;
  fuzz::expect_documented_errors_only([&] {
    plan_sweep(fuzz::as_text(data, size), fuzz::kNoFolder, std::string(fuzz::kNoFolder) + "/sweep");
  });
  return 0;
}
