#pragma once
// tau, the membrane time constant of the hidden neurons (alpha = dt / tau is what the step uses):
// one value for the whole ensemble, one per network (E), one per hidden neuron (H, the same for
// every network), or one per network and neuron (E, H). In configs and checkpoints:
//   100                                   one for all
//   [t_0, ..., t_{H-1}]                   per neuron (a bare list is an array over neurons, as
//                                         everywhere in a config)
//   {"per_network": [t_0, ..., t_{E-1}]}   per network (PerNetwork's form)
//   {"per_network": [[H values], ...]}     per network and neuron (E rows of H)
// In Python a number, a (H,) or (E, H) array, or ctrnn.per_network([...]).
#include <cstdint>
#include <string>
#include <vector>

namespace ctrnn {

class TimeConstants {
 public:
  TimeConstants(double tau = 100) : values_{tau} {}  // NOLINT(google-explicit-constructor): a scalar means all
  // One value per network, per neuron, or per network and neuron (rows of H, one per network):
  // at least one value; a ragged table throws InvalidArgument("tau").
  static TimeConstants each_network(std::vector<double> tau);
  static TimeConstants each_neuron(std::vector<double> tau);
  static TimeConstants each_network_neuron(const std::vector<std::vector<double>>& tau);

  bool per_network() const { return per_network_; }
  bool per_neuron() const { return per_neuron_; }
  // tau of neuron h of network e (any e or h where the value does not depend on it).
  double at(int64_t e, int64_t h) const {
    return values_[size_t((per_network_ ? e : 0) * neurons_ + (per_neuron_ ? h : 0))];
  }
  const std::vector<double>& values() const { return values_; }  // row-major (networks, neurons)
  int64_t networks() const { return per_network_ ? int64_t(values_.size()) / neurons_ : 1; }
  int64_t neurons() const { return neurons_; }
  bool operator==(const TimeConstants& o) const {
    return per_network_ == o.per_network_ && per_neuron_ == o.per_neuron_ && neurons_ == o.neurons_ &&
           values_ == o.values_;
  }
  bool operator!=(const TimeConstants& o) const { return !(*this == o); }

  // Throws InvalidArgument("tau", ...) naming the expected lengths (E networks, H neurons), or the
  // network and neuron of the first value that is not finite and > 0 or whose dt / tau is not in
  // (0, 1].
  void check(int64_t E, int64_t H, double dt) const;
  // alpha = dt / tau of every network and neuron: (E, H), row-major.
  std::vector<double> alpha(int64_t E, int64_t H, double dt) const;

 private:
  std::vector<double> values_;
  int64_t neurons_ = 1;
  bool per_network_ = false, per_neuron_ = false;
};

}  // namespace ctrnn
