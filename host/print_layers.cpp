// BasicNetwork::print_layers: nn4n's layer report (its print_dict format), extended with the
// E/I counts, plasticity levels and growth masks. With E > 1, ranges are over all networks.
#include <algorithm>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ctrnn/network.hpp"

namespace ctrnn {

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

void print_dict(std::ostream& os, const std::string& title, const Entries& entries) {
  size_t width = 0;
  for (const auto& kv : entries) width = std::max(width, kv.first.size());
  os << title << ":\n";
  for (const auto& kv : entries)
    os << "   | " << kv.first << ":" << std::string(width - kv.first.size() + 1, ' ') << kv.second << "\n";
  os << "\n";
}

template <class X>
std::string str(const X& x) {
  std::ostringstream s;
  s << std::setprecision(6) << x;
  return s.str();
}
std::string str(bool b) { return b ? "True" : "False"; }

template <class T>
std::pair<T, T> min_max(const std::vector<T>& v) {
  auto mm = std::minmax_element(v.begin(), v.end());
  return {*mm.first, *mm.second};
}

template <class T>
Entries layer_entries(const LayerView<T>& v, int64_t E) {
  const auto w = min_max(v.weight.data);
  const auto b = min_max(v.bias.data);
  Entries e{{"input_dim", str(v.pre)},
            {"output_dim", str(v.post)},
            {"weight_learnable", str(v.weight_learnable)},
            {"weight_min", str(w.first)},
            {"weight_max", str(w.second)},
            {"bias_learnable", str(v.bias_learnable)},
            {"bias_min", str(b.first)},
            {"bias_max", str(b.second)}};
  double density = 1;
  if (v.sparsity_mask) {
    double on = 0;
    for (T m : v.sparsity_mask->data) on += m != T(0);
    density = on / double(v.sparsity_mask->numel());
  }
  e.push_back({"sparsity", str(density)});
  if (v.ei_mask) {
    // A presynaptic neuron (row) is excitatory or inhibitory when all its entries agree.
    int64_t exc = 0, inh = 0, mixed = 0;
    for (int64_t row = 0; row < E * v.pre; ++row) {
      const T* m = &v.ei_mask->data[row * v.post];
      const bool all_exc = std::all_of(m, m + v.post, [](T x) { return x > 0; });
      const bool all_inh = std::all_of(m, m + v.post, [](T x) { return x <= 0; });
      (all_exc ? exc : all_inh ? inh : mixed) += 1;
    }
    e.push_back({"excitatory_neurons", str(exc)});
    e.push_back({"inhibitory_neurons", str(inh)});
    if (mixed) e.push_back({"mixed_sign_neurons", str(mixed)});
  }
  std::set<T> levels(v.plasticity.data.begin(), v.plasticity.data.end());
  std::string lv = "[";
  int shown = 0;
  for (T x : levels) {
    if (shown++ == 8) { lv += ", ..."; break; }
    lv += (shown > 1 ? ", " : "") + str(x);
  }
  e.push_back({"plasticity_levels", lv + "] (" + str(levels.size()) + ")"});
  if (v.growth_probability) {
    const auto g = min_max(v.growth_probability->data);
    e.push_back({"growth_probability_max", str(g.second)});
  }
  if (E > 1) e.push_back({"networks", str(E) + " (ranges over all)"});
  return e;
}

// alpha = dt / tau: the number when one for all, else its range and form; learned, the range
// of the network's alpha now and the bounds it is kept in.
template <class T>
std::string alpha_text(const Config& c, const std::vector<T>& now) {
  if (c.learn_tau) {
    const auto range = min_max(now);
    return str(range.first) + " to " + str(range.second) + " (learned, within [" + str(c.alpha_min()) + ", 1]; tau " +
           str(c.dt / double(range.second)) + " to " + str(c.dt / double(range.first)) + ")";
  }
  const std::vector<double> alpha = c.alpha();
  if (!c.tau.per_network() && !c.tau.per_neuron()) return str(alpha[0]);
  const auto range = std::minmax_element(alpha.begin(), alpha.end());
  const char* form = c.tau.per_network() && c.tau.per_neuron() ? "per network and neuron"
                     : c.tau.per_network()                     ? "per network"
                                                               : "per neuron";
  return str(*range.first) + " to " + str(*range.second) + " (" + form + ")";
}

}  // namespace

template <class T>
void BasicNetwork<T>::print_layers(std::ostream& os) const {
  const auto views = layers();
  const int64_t E = config_.ensemble_size;
  print_dict(os, "Input Layer", layer_entries(views[0], E));
  const auto h0 = min_max(params().h0);
  print_dict(os, "Recurrence",
             {{"init_hidden_min", str(h0.first)},
              {"init_hidden_max", str(h0.second)},
              {"preact_noise", to_json(config_.preact_noise)},
              {"postact_noise", to_json(config_.postact_noise)},
              {"noise_active", str(mode_ == Mode::Train && (config_.preact_noise.any_nonzero() || config_.postact_noise.any_nonzero()))},
              {"activation", to_string(config_.activation)},
              {"alpha", alpha_text(config_, params().alpha)},
              {"init_state", to_string(config_.init_state)},
              {"init_state_learnable", str(h0_learnable())},
              {"mode", mode_ == Mode::Train ? "train" : "eval"},
              {"device", device_description()},
              {"ensemble_size", str(E)}});
  print_dict(os, "Hidden Layer", layer_entries(views[1], E));
  print_dict(os, "Readout Layer", layer_entries(views[2], E));
}

template void BasicNetwork<float>::print_layers(std::ostream&) const;
template void BasicNetwork<double>::print_layers(std::ostream&) const;

}  // namespace ctrnn
