#pragma once
// The operations on a layer's constraints (docs/contract.md "Constraints, plasticity, growth").
#include <cstdint>
#include <vector>

#include "ctrnn/constraints.hpp"

namespace ctrnn {

// W <- W * S, then Dale's law: max(W, 0) where ei = +1, min(W, 0) where ei = -1.
template <class T>
void project_weights(std::vector<T>& w, const LayerConstraints<T>& c);

// No neuron connects to itself: zeroes the diagonal of each network's sparsity mask (creating an
// all-ones mask when there is none) and of its growth probabilities. Square layers only.
template <class T>
void forbid_self_connections(LayerConstraints<T>& c);

// E/I balance of one network's matrix at construction (n entries): with e the sum of the
// excitatory entries and i the |sum| of the inhibitory ones, scale the larger side down to the
// smaller; when either is 0 divide the whole matrix by 10.
template <class T>
void balance_excitatory_inhibitory(T* w, const T* ei, int64_t n);

}  // namespace ctrnn
