#pragma once
// The inputs that `ctrnn run` simulates a network on, read from a file a user hands over.
#include <string>

#include "ctrnn/config.hpp"
#include "ctrnn/tensor.hpp"

namespace ctrnn {

// Tensor "u" of the safetensors file at `path`, as float: (T, B, I) shared by the networks or
// (E, T, B, I), with T, B >= 1, I and E those of `c`, and finite values. Throws FileError for an
// unreadable or malformed file, InvalidArgument("inputs") naming what does not fit `c`.
Tensor<float> read_run_inputs(const std::string& path, const Config& c);

}  // namespace ctrnn
