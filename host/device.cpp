#include "ctrnn/device.hpp"

#include <mutex>
#include <optional>

#include "backend.hpp"
#include "ctrnn/error.hpp"

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
std::string cuda_backend_unusable() { return "this build has no CUDA backend"; }
std::unique_ptr<Backend<float>> make_cuda_backend(const Config&, MathMode) {
  throw StateError("ctrnn: device 'cuda' requested, but this build has no CUDA backend (configure with -DCTRNN_CUDA=ON)");
}
}  // namespace detail
#endif

namespace detail {
namespace {
std::mutex override_mutex;
std::optional<std::string> reason_override;
}  // namespace

std::string cuda_unusable_reason() {
  {
    const std::lock_guard<std::mutex> lock(override_mutex);
    if (reason_override) return *reason_override;
  }
  return cuda_backend_unusable();
}

void override_cuda_unusable_reason(std::optional<std::string> reason) {
  const std::lock_guard<std::mutex> lock(override_mutex);
  reason_override = std::move(reason);
}
}  // namespace detail

}  // namespace ctrnn
