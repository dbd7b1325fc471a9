#pragma once
// Building a network's parameters and constraints from a validated Config.
#include <array>

#include "ctrnn/config.hpp"
#include "ctrnn/constraints.hpp"
#include "ctrnn/params.hpp"

namespace ctrnn {

// Masks expanded to (E, pre, post), plasticity normalized (docs/contract.md).
template <class T>
std::array<LayerConstraints<T>, 3> build_constraints(const Config& c);

// Initial weights and biases drawn from the seed (uniform U(-1/sqrt(k), 1/sqrt(k)), normal
// N(0, 1/k), k = fan-in = pre), projected, and E/I-balanced where generated; h0 = 0; alpha = dt / tau (Config::alpha).
template <class T>
Params<T> initial_params(const Config& c, const std::array<LayerConstraints<T>, 3>& constraints);

// An array of a layer given as `per_network` values or one set shared by all E networks,
// copied to (E, n).
template <class T>
std::vector<T> broadcast_to_ensemble(const std::vector<double>& values, int64_t E, int64_t n);

}  // namespace ctrnn
