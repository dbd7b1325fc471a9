// The training config parser: the network, "task", "training" and "loss" sections.
#include "ctrnn/train_config.hpp"
#include "fuzz_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrnn;
  fuzz::expect_documented_errors_only([&] {
    const TrainConfig tc = parse_train_config(fuzz::as_text(data, size), fuzz::kNoFolder);
    if (!tc.task_json.empty()) tc.make_task();
  });
  return 0;
}
