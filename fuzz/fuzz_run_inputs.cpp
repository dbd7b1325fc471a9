// The `run` input path: an inputs file read for a small ensemble, then simulated in eval mode.
#include "ctrnn/network.hpp"
#include "ctrnn/run_inputs.hpp"
#include "fuzz_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrnn;
  static Network* net = [] {
    Config c;
    c.dims = {2, 4, 3};
    c.ensemble_size = 2;
    auto* n = new Network(c, Device::Cpu);
    n->eval();
    return n;
  }();
  const std::string path = fuzz::as_file(data, size);
  fuzz::expect_documented_errors_only([&] { net->forward(read_run_inputs(path, net->config())); });
  return 0;
}
