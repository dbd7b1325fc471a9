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

}  // namespace ctrnn
