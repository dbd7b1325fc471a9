#pragma once
// A hyperparameter of an ensemble: one value for all E networks (a scalar), or one value per
// network. The optimizer's lr, weight_decay, momentum and clip_grad_norm and each loss lambda take
// this form, so that one ensemble can hold a slice of a sweep. Written in configs and checkpoints
// as a number or {"per_network": [v0, v1, ...]}, never a bare list (a bare list of numbers means
// an array over neurons elsewhere in a config); in Python a number or ctrnn.per_network([...]).
#include <cstdint>
#include <string>
#include <vector>

namespace ctrnn {

class PerNetwork {
 public:
  PerNetwork(double value = 0) : values_{value} {}  // NOLINT(google-explicit-constructor): a scalar means all E
  // One value per network (at least one); throws InvalidArgument("per_network") when empty.
  static PerNetwork each(std::vector<double> values);

  bool per_network() const { return per_network_; }
  // The value of network e (any e for a scalar, e < values().size() otherwise).
  double operator[](int64_t e) const { return values_[per_network_ ? size_t(e) : 0]; }
  const std::vector<double>& values() const { return values_; }
  bool any_nonzero() const;
  bool operator==(const PerNetwork& o) const { return per_network_ == o.per_network_ && values_ == o.values_; }
  bool operator!=(const PerNetwork& o) const { return !(*this == o); }

  // Throws InvalidArgument naming `name` (and the network, for a per-network value) unless every
  // value satisfies `ok` (`expected` says what that is) and, when E > 0, a per-network value has
  // exactly E entries.
  template <class Ok>
  void check(const std::string& name, Ok&& ok, const std::string& expected, int64_t E = 0) const {
    check_size(name, E);
    for (size_t e = 0; e < values_.size(); ++e)
      if (!ok(values_[e])) refuse(name, expected, e);
  }
  void check_size(const std::string& name, int64_t E) const;

 private:
  [[noreturn]] void refuse(const std::string& name, const std::string& expected, size_t e) const;
  std::vector<double> values_;
  bool per_network_ = false;
};

// The training config's keys that take this form, as dotted paths ("training.lr",
// "loss.lambda_fr"; network keys have no section): the one list of what may differ between the
// networks of one ensemble, which a sweep packs by (sweep.hpp).
const std::vector<std::string>& per_network_keys();

// The config and checkpoint form: "0.01" or {"per_network":[0.01,0.02]} (JSON text; numbers
// written to round-trip exactly).
std::string to_json(const PerNetwork& v);

}  // namespace ctrnn
