// Checkpoint loading on the CPU, then what `ctrnn info` and a resume do with a loaded one.
#include <sstream>

#include "ctrnn/checkpoint.hpp"
#include "fuzz_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrnn;
  const std::string path = fuzz::as_file(data, size);
  fuzz::expect_documented_errors_only([&] {
    Checkpoint ck = load_checkpoint(path, Device::Cpu);
    std::ostringstream out;
    ck.network.print_layers(out);
    ck.metadata_unsigned("eval_batch_size", 256, 1);
    if (ck.trainer_state) {
      Trainer trainer(ck.network, ck.optimizer, ck.loss_weights);
      trainer.restore(*ck.trainer_state);
    }
  });
  return 0;
}
