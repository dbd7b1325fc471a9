#pragma once
// The CUDA backend's factory with options for tests (the public one is make_cuda_backend in
// backend.hpp).
#include <memory>
#include <string>

#include "backend.hpp"
#include "orchestrated/recurrence_plan.hpp"

namespace ctrnn::detail {

struct CudaBackendOptions {
  int device = -1;             // -1: the current CUDA device
  bool poison_buffers = false;  // NaN-fill each buffer when it is sized for a call (tests)
  RecurrenceOptions recurrence;  // forces the time loop's path (tests, benchmarks; docs/gpu-dispatch.md)
  bool graphs = true;           // false: every call launch by launch (the cross-check of graphs)
};

// Throws StateError when no CUDA device is present.
std::unique_ptr<Backend<float>> make_cuda_backend(const Config& c, MathMode math, const CudaBackendOptions& options);

// Why no device is usable ("" when one is): the CUDA runtime's answer, for messages.
std::string cuda_unavailable_reason();

}  // namespace ctrnn::detail
