#include "constraints.hpp"

#include <algorithm>

#include "kernels/update_bodies.hpp"

namespace ctrnn {

template <class T>
void project_weights(std::vector<T>& w, const LayerConstraints<T>& c) {
  const T* s = c.has_sparsity() ? c.sparsity.data() : nullptr;
  const T* ei = c.has_ei() ? c.ei.data() : nullptr;
  if (!s && !ei) return;
  for (int64_t i = 0; i < c.size(); ++i) w[i] = body::project_weight(w[i], s, ei, i);
}

template <class T>
void balance_excitatory_inhibitory(T* w, const T* ei, int64_t n) {
  // Sums in double: the scale must not depend on the order of float additions.
  double exc = 0, inh = 0;
  for (int64_t i = 0; i < n; ++i) (ei[i] > 0 ? exc : inh) += double(w[i]);
  inh = -inh;
  if (exc == 0 || inh == 0) {
    for (int64_t i = 0; i < n; ++i) w[i] /= T(10);
  } else if (exc > inh) {
    for (int64_t i = 0; i < n; ++i)
      if (ei[i] > 0) w[i] = T(double(w[i]) * (inh / exc));
  } else if (inh > exc) {
    for (int64_t i = 0; i < n; ++i)
      if (ei[i] <= 0) w[i] = T(double(w[i]) * (exc / inh));
  }
}

template <class T>
void forbid_self_connections(LayerConstraints<T>& c) {
  if (!c.has_sparsity()) c.sparsity.assign(size_t(c.size()), T(1));
  const int64_t n = c.pre * c.post;
  for (int64_t e = 0; e < c.E; ++e)
    for (int64_t i = 0; i < c.pre; ++i) {
      c.sparsity[e * n + i * c.post + i] = T(0);
      if (c.has_growth()) c.growth[e * n + i * c.post + i] = T(0);
    }
}

template void project_weights<float>(std::vector<float>&, const LayerConstraints<float>&);
template void project_weights<double>(std::vector<double>&, const LayerConstraints<double>&);
template void forbid_self_connections<float>(LayerConstraints<float>&);
template void forbid_self_connections<double>(LayerConstraints<double>&);
template void balance_excitatory_inhibitory<float>(float*, const float*, int64_t);
template void balance_excitatory_inhibitory<double>(double*, const double*, int64_t);

}  // namespace ctrnn
