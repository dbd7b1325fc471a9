#pragma once
// The backend's CUDA device made the calling thread's current device for a scope, and the
// caller's current device restored at its end. Allocations, kernel attributes, occupancy queries,
// launches and cuBLAS handles act on the current device, and a caller with several GPUs (or a
// framework that switches devices) may have made another one current (issue 24, defect 4).
// Costs a cudaGetDevice (a thread-local read) when the device is already current.
#include <cuda_runtime_api.h>

#include "cuda/cuda_check.hpp"

namespace ctrnn::cuda {

class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    CTRNN_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) CTRNN_CUDA_CHECK(cudaSetDevice(device));
    changed_ = previous_ != device;
  }
  ~DeviceGuard() {
    if (changed_) (void)cudaSetDevice(previous_);  // a destructor cannot throw; it was current before
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

}  // namespace ctrnn::cuda
