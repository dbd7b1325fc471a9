#include "ctrnn/view.hpp"

namespace ctrnn {

std::string to_string(DType d) { return d == DType::Float32 ? "float32" : "float64"; }

std::string to_string(Location l) {
  return l.is_host() ? "host memory" : "CUDA device " + std::to_string(l.device);
}

}  // namespace ctrnn
