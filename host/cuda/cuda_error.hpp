#pragma once
// The exception of the CUDA error path (cuda_check.hpp); needs no CUDA header.
#include <stdexcept>

namespace ctrnn::cuda {

// A CUDA runtime or cuBLAS call failed; the message names the call, the file and the line.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ctrnn::cuda
