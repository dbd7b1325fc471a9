#pragma once
// BasicTrainer<double>: the library instantiates it for its own tests, whose gradient checks
// (finite differences) need double precision. Not part of the API (ctrnn/network.hpp declares
// the double network, DoubleNetwork; the trainer's public header only the float one); the CPU
// reference runs it.
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn {

extern template class BasicTrainer<double>;

}  // namespace ctrnn
