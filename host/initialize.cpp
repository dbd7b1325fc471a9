#include "initialize.hpp"

#include <algorithm>
#include <cmath>

#include "constraints.hpp"
#include "kernels/philox.hpp"

namespace ctrnn {

template <class T>
std::vector<T> broadcast_to_ensemble(const std::vector<double>& values, int64_t E, int64_t n) {
  std::vector<T> out(E * n);
  const bool shared = static_cast<int64_t>(values.size()) == n;
  for (int64_t e = 0; e < E; ++e)
    for (int64_t i = 0; i < n; ++i) out[e * n + i] = T(values[(shared ? 0 : e * n) + i]);
  return out;
}

template <class T>
std::array<LayerConstraints<T>, 3> build_constraints(const Config& c) {
  const int64_t E = c.ensemble_size;
  std::array<LayerConstraints<T>, 3> out;
  for (int l = 0; l < 3; ++l) {
    const auto s = c.layer_shape(static_cast<Layer>(l));
    LayerConstraints<T>& lc = out[l];
    lc.E = E, lc.pre = s[0], lc.post = s[1];
    const int64_t n = s[0] * s[1];
    if (c.sparsity_masks[l]) {
      lc.sparsity = broadcast_to_ensemble<T>(c.sparsity_masks[l]->data, E, n);
      for (T& m : lc.sparsity) m = m != T(0) ? T(1) : T(0);
    }
    if (c.ei_masks[l]) {
      lc.ei = broadcast_to_ensemble<T>(c.ei_masks[l]->data, E, n);
      for (T& m : lc.ei) m = m > T(0) ? T(1) : T(-1);
    }
    if (c.synapse_growth_masks[l]) lc.growth = broadcast_to_ensemble<T>(c.synapse_growth_masks[l]->data, E, n);
    lc.plasticity.assign(E * n, T(1));
  }
  if (!c.self_connections) forbid_self_connections(out[int(Layer::Hidden)]);
  // Plasticity: (m - min) / (max - min) with min and max over all of a network's given masks;
  // missing masks stay ones; all-equal values give ones everywhere.
  std::array<std::vector<double>, 3> given;
  for (int l = 0; l < 3; ++l)
    if (c.plasticity_masks[l])
      given[l] = broadcast_to_ensemble<double>(c.plasticity_masks[l]->data, E, out[l].pre * out[l].post);
  for (int64_t e = 0; e < E; ++e) {
    double lo = INFINITY, hi = -INFINITY;
    for (int l = 0; l < 3; ++l) {
      if (given[l].empty()) continue;
      const int64_t n = out[l].pre * out[l].post;
      for (int64_t i = 0; i < n; ++i) lo = std::min(lo, given[l][e * n + i]), hi = std::max(hi, given[l][e * n + i]);
    }
    if (!(hi > lo)) continue;
    for (int l = 0; l < 3; ++l) {
      if (given[l].empty()) continue;
      const int64_t n = out[l].pre * out[l].post;
      for (int64_t i = 0; i < n; ++i) out[l].plasticity[e * n + i] = T((given[l][e * n + i] - lo) / (hi - lo));
    }
  }
  return out;
}

namespace {

// Draws a generated matrix or vector (n values with fan-in k) for network e of the streams
// (Config::first_network + the index in the ensemble).
template <class T>
void draw(InitSpec::Kind kind, RandomPurpose purpose, uint64_t seed, int64_t e, int layer, int64_t k, T* out,
          int64_t n) {
  const RandomStream rng(seed, purpose, uint32_t(e), uint32_t(layer));
  const double bound = 1.0 / std::sqrt(double(k));
  for (int64_t i = 0; i < n; ++i) {
    switch (kind) {
      case InitSpec::Kind::Uniform: out[i] = T((2.0 * rng.uniform(uint32_t(i)) - 1.0) * bound); break;
      case InitSpec::Kind::Normal: out[i] = T(rng.normal(uint32_t(i)) * bound); break;
      default: out[i] = T(0); break;
    }
  }
}

}  // namespace

template <class T>
Params<T> initial_params(const Config& c, const std::array<LayerConstraints<T>, 3>& constraints) {
  const int64_t E = c.ensemble_size;
  Params<T> p = Params<T>::zeros(E, c.dims[0], c.dims[1], c.dims[2]);
  for (int l = 0; l < 3; ++l) {
    const Layer layer = static_cast<Layer>(l);
    const auto s = c.layer_shape(layer);
    const int64_t n = s[0] * s[1], fan_in = s[0];
    std::vector<T>& w = p.weight(layer);
    std::vector<T>& b = p.bias(layer);
    const InitSpec& ws = c.weights[l];
    const InitSpec& bs = c.biases[l];
    if (ws.kind == InitSpec::Kind::Array) w = broadcast_to_ensemble<T>(ws.array.data, E, n);
    if (bs.kind == InitSpec::Kind::Array) b = broadcast_to_ensemble<T>(bs.array.data, E, s[1]);
    for (int64_t e = 0; e < E; ++e) {
      if (ws.kind != InitSpec::Kind::Array)
        draw(ws.kind, RandomPurpose::Weight, c.seed, c.first_network + e, l, fan_in, &w[e * n], n);
      if (bs.kind != InitSpec::Kind::Array)
        draw(bs.kind, RandomPurpose::Bias, c.seed, c.first_network + e, l, fan_in, &b[e * s[1]], s[1]);
    }
    const LayerConstraints<T>& lc = constraints[l];
    project_weights(w, lc);
    if (lc.has_ei() && ws.kind != InitSpec::Kind::Array)
      for (int64_t e = 0; e < E; ++e) balance_excitatory_inhibitory(&w[e * n], &lc.ei[e * n], n);
  }
  const std::vector<double> alpha = c.alpha();
  p.alpha.assign(alpha.begin(), alpha.end());
  return p;
}

template std::array<LayerConstraints<float>, 3> build_constraints<float>(const Config&);
template std::array<LayerConstraints<double>, 3> build_constraints<double>(const Config&);
template Params<float> initial_params<float>(const Config&, const std::array<LayerConstraints<float>, 3>&);
template Params<double> initial_params<double>(const Config&, const std::array<LayerConstraints<double>, 3>&);
template std::vector<float> broadcast_to_ensemble<float>(const std::vector<double>&, int64_t, int64_t);
template std::vector<double> broadcast_to_ensemble<double>(const std::vector<double>&, int64_t, int64_t);

}  // namespace ctrnn
