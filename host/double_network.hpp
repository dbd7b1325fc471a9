#pragma once
// BasicNetwork<double> and BasicTrainer<double>: the library instantiates them for its own
// tests, whose gradient checks (finite differences) need double precision. Not part of the API
// (the public headers declare only the float instantiations); the CPU reference runs them.
#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn {

extern template class BasicNetwork<double>;
extern template class BasicTrainer<double>;

}  // namespace ctrnn
