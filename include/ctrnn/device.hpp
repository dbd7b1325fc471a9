#pragma once
#include <string>

namespace ctrnn {

// Where a network computes. Auto: the GPU when one is present, else the CPU reference.
enum class Device { Auto, Cpu, Cuda };

// GPU matrix products: full float32 (default), or TF32 tensor cores as an explicit opt-in
// (about 3e-4 relative error, faster). The CPU backend ignores it.
enum class MathMode { FP32, TF32 };

Device parse_device(const std::string& name);  // "auto", "cpu", "cuda"; throws InvalidArgument("device")
std::string to_string(Device d);

// True when the library was built with CUDA and a device is present.
bool cuda_available();

}  // namespace ctrnn
