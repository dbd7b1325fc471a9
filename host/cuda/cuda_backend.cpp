// The CUDA backend: OrchestratedBackend over CudaPrims, bound to its device (DeviceBound), device
// detection, the factory.
#include "cuda/cuda_backend.hpp"

#include <cuda_runtime_api.h>

#include "ctrnn/error.hpp"
#include "cuda/cublas.hpp"
#include "cuda/cuda_primitives.hpp"
#include "cuda/device_bound_backend.hpp"
#include "cuda/lazy_library.hpp"
#include "orchestrated/orchestrated_backend.hpp"

namespace ctrnn {

namespace {
// cudaGetDeviceCount's verdict, asked once. Without a driver (no libcuda) or device it reports
// an error code; nothing here throws or aborts.
struct Availability {
  bool available = false;
  std::string reason;
};
const Availability& availability() {
  static const Availability a = [] {
    Availability r;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      r.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(e) + ", " + cudaGetErrorString(e);
      (void)cudaGetLastError();  // reset the runtime's last-error state so later calls start clean
    } else if (count == 0) {
      r.reason = "cudaGetDeviceCount found no device";
    } else {
      r.available = true;
    }
    return r;
  }();
  return a;
}
}  // namespace

bool cuda_available() {
  try {
    return availability().available;
  } catch (...) {
    return false;
  }
}

namespace detail {

std::string cuda_unavailable_reason() { return availability().reason; }

// A device without a loadable cuBLAS (a machine with libcublas.so.12 only, for a build against
// CUDA 13) cannot run the backend: Device::Auto then uses the CPU. cuBLAS is opened here only
// where a device is present (opening it costs ~0.5 s; a GPU run pays that anyway).
std::string cuda_backend_unusable() {
  if (!cuda_available()) return "no CUDA device (" + cuda_unavailable_reason() + ")";
  const std::string& cublas = cuda::cublas::library().error();
  return cublas.empty() ? "" : "a CUDA device, but " + cublas.substr(cublas.rfind("ctrnn: ", 0) == 0 ? 7 : 0);
}

std::unique_ptr<Backend<float>> make_cuda_backend(const Config& c, MathMode math, const CudaBackendOptions& options) {
  if (!cuda_available())
    throw StateError("ctrnn: device 'cuda' requested, but no CUDA device is available (" + cuda_unavailable_reason() +
                     ")");
  int device = options.device;
  if (device < 0) {
    const cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // cleared, as check_cuda does
      throw StateError(std::string("ctrnn: cudaGetDevice failed: ") + cudaGetErrorString(e));
    }
  }
  auto backend = std::make_unique<DeviceBound<OrchestratedBackend<CudaPrims>>>(device, c, options.poison_buffers,
                                                                                device, math, options.graphs);
  backend->set_recurrence(options.recurrence);
  return backend;
}

std::unique_ptr<Backend<float>> make_cuda_backend(const Config& c, MathMode math) {
  return make_cuda_backend(c, math, CudaBackendOptions{});
}

}  // namespace detail

}  // namespace ctrnn
