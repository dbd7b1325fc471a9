#include "ctrnn/device.hpp"
#include <cmath>

#include "backend.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/optimizer.hpp"

namespace ctrnn {

Device parse_device(const std::string& name) {
  if (name == "auto") return Device::Auto;
  if (name == "cpu") return Device::Cpu;
  if (name == "cuda") return Device::Cuda;
  throw InvalidArgument("device", "one of 'auto', 'cpu', 'cuda'", "'" + name + "'");
}

std::string to_string(Device d) {
  switch (d) {
    case Device::Auto: return "auto";
    case Device::Cpu: return "cpu";
    case Device::Cuda: return "cuda";
  }
  return "?";
}

#ifndef CTRNN_WITH_CUDA
bool cuda_available() { return false; }

namespace detail {
std::unique_ptr<Backend<float>> make_cuda_backend(const Config&, MathMode) {
  throw StateError("ctrnn: device 'cuda' requested, but this build has no CUDA backend (configure with -DCTRNN_CUDA=ON)");
}
}  // namespace detail
#endif

OptimizerConfig::Kind parse_optimizer(const std::string& name) {
  if (name == "adam") return OptimizerConfig::Kind::Adam;
  if (name == "sgd") return OptimizerConfig::Kind::SGD;
  throw InvalidArgument("optimizer", "one of 'adam', 'sgd'", "'" + name + "'");
}

std::string to_string(OptimizerConfig::Kind k) { return k == OptimizerConfig::Kind::Adam ? "adam" : "sgd"; }

void OptimizerConfig::validate() const {
  auto check = [](bool ok, const char* name, const char* expected, double v) {
    if (!ok) throw InvalidArgument(name, expected, std::to_string(v));
  };
  check(std::isfinite(lr) && lr > 0, "lr", "a finite number > 0", lr);
  check(beta1 >= 0 && beta1 < 1, "beta1", "a number in [0, 1)", beta1);
  check(beta2 >= 0 && beta2 < 1, "beta2", "a number in [0, 1)", beta2);
  check(std::isfinite(eps) && eps >= 0, "eps", "a finite number >= 0", eps);
  check(std::isfinite(momentum) && momentum >= 0, "momentum", "a finite number >= 0", momentum);
  check(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay", "a finite number >= 0", weight_decay);
  check(std::isfinite(clip_grad_norm) && clip_grad_norm >= 0, "clip_grad_norm", "a finite number >= 0 (0: off)",
        clip_grad_norm);
}

}  // namespace ctrnn
