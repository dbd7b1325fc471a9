#pragma once
// Per-synapse constraints of one layer for E networks (docs/contract.md "Constraints, plasticity,
// growth"). Every array is (E, pre, post); an empty array means the layer has no such mask.
#include <cstdint>
#include <vector>

namespace ctrnn {

template <class T>
struct LayerConstraints {
  int64_t E = 0, pre = 0, post = 0;
  std::vector<T> sparsity;    // 1 = synapse, 0 = none
  std::vector<T> ei;          // +1 excitatory, -1 inhibitory (Dale's law per entry)
  std::vector<T> plasticity;  // normalized learning-rate scale in [0, 1]; always present
  std::vector<T> growth;      // probability that a missing synapse appears after a step

  bool has_sparsity() const { return !sparsity.empty(); }
  bool has_ei() const { return !ei.empty(); }
  bool has_growth() const { return !growth.empty(); }
  int64_t size() const { return E * pre * post; }
};

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
