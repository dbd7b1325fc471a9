#include "ctrnn/constraints.hpp"

#include <algorithm>

namespace ctrnn {

template <class T>
void project_weights(std::vector<T>& w, const LayerConstraints<T>& c) {
  for (int64_t i = 0; i < c.size(); ++i) {
    if (c.has_sparsity()) w[i] *= c.sparsity[i];
    if (c.has_ei()) w[i] = c.ei[i] > 0 ? std::max(w[i], T(0)) : std::min(w[i], T(0));
  }
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

template void project_weights<float>(std::vector<float>&, const LayerConstraints<float>&);
template void project_weights<double>(std::vector<double>&, const LayerConstraints<double>&);
template void balance_excitatory_inhibitory<float>(float*, const float*, int64_t);
template void balance_excitatory_inhibitory<double>(double*, const double*, int64_t);

}  // namespace ctrnn
