// Names of the enums and the validation of a Config (docs/contract.md "Bad input").
#include "ctrnn/config.hpp"

#include <cmath>

#include "ctrnn/error.hpp"
#include "ctrnn/params.hpp"
#include "number_text.hpp"

namespace ctrnn {

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::ReLU;
  if (name == "tanh") return Activation::Tanh;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "retanh") return Activation::ReTanh;
  throw InvalidArgument("activation", "one of 'relu', 'tanh', 'sigmoid', 'retanh'", "'" + name + "'");
}

InitState parse_init_state(const std::string& name) {
  if (name == "zero") return InitState::Zero;
  if (name == "keep") return InitState::Keep;
  if (name == "learn") return InitState::Learn;
  throw InvalidArgument("init_state", "one of 'zero', 'keep', 'learn'", "'" + name + "'");
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::ReLU: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::ReTanh: return "retanh";
  }
  return "?";
}

std::string to_string(InitState s) {
  switch (s) {
    case InitState::Zero: return "zero";
    case InitState::Keep: return "keep";
    case InitState::Learn: return "learn";
  }
  return "?";
}

std::string to_string(Layer l) {
  switch (l) {
    case Layer::Input: return "input";
    case Layer::Hidden: return "hidden";
    case Layer::Readout: return "readout";
  }
  return "?";
}

std::string to_string(InitSpec::Kind k) {
  switch (k) {
    case InitSpec::Kind::None: return "none";
    case InitSpec::Kind::Zero: return "zero";
    case InitSpec::Kind::Uniform: return "uniform";
    case InitSpec::Kind::Normal: return "normal";
    case InitSpec::Kind::Array: return "array";
  }
  return "?";
}

InitSpec InitSpec::parse(const std::string& name, const std::string& parameter) {
  if (name == "none") return none();
  if (name == "zero") return zero();
  if (name == "uniform") return uniform();
  if (name == "normal") return normal();
  throw InvalidArgument(parameter, "one of 'none', 'zero', 'uniform', 'normal' or an array", "'" + name + "'");
}

std::array<int64_t, 2> Config::layer_shape(Layer l) const {
  const Shape s = param_shape(int(l), 1, dims[0], dims[1], dims[2]);  // the weight array of layer l
  return {s[1], s[2]};
}

namespace {

std::string indexed(const char* name, int layer) { return std::string(name) + "[" + std::to_string(layer) + "]"; }

// An array for one layer: `shape` shared by all networks, or with a leading E axis.
void check_layer_array(const Array& a, const Shape& shape, int64_t E, const std::string& parameter) {
  Shape per_network = shape;
  per_network.insert(per_network.begin(), E);
  if (a.shape != shape && a.shape != per_network)
    throw InvalidArgument(parameter, "an array of shape " + shape_to_string(shape) + " or " +
                                         shape_to_string(per_network) + " (pre x post)",
                          "shape " + shape_to_string(a.shape));
  if (Array::count(a.shape) != a.numel())
    throw InvalidArgument(parameter, std::to_string(Array::count(a.shape)) + " values", std::to_string(a.numel()));
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!std::isfinite(a.data[i]))
      throw InvalidArgument(parameter, "finite values", detail::number_text(a.data[i]) + " at flat index " + std::to_string(i));
}

void check_masks(const LayerMasks& masks, const char* name, const Config& c) {
  for (int l = 0; l < 3; ++l) {
    if (!masks[l]) continue;
    const auto s = c.layer_shape(static_cast<Layer>(l));
    check_layer_array(*masks[l], {s[0], s[1]}, c.ensemble_size, indexed(name, l));
  }
}

// tau_max (always: a sweep may set it beside learn_tau false) and tau_plasticity.
void check_learned_tau(const Config& c) {
  const double tau_max = c.tau_upper();
  const std::string given = c.tau_max ? detail::number_text(tau_max) : "the default " + detail::number_text(tau_max) + " (" +
                                                                             detail::number_text(Config::kDefaultTauMaxSteps) + " dt)";
  if (!std::isfinite(tau_max) || !(tau_max > c.dt))
    throw InvalidArgument("tau_max", "a finite number > dt (" + detail::number_text(c.dt) + ")", given);
  if (c.learn_tau)
    for (int64_t e = 0; e < c.ensemble_size; ++e)
      for (int64_t h = 0; h < c.dims[1]; ++h)
        if (c.tau.at(e, h) > tau_max)
          throw InvalidArgument("tau_max", "a bound >= every initial tau of a learned tau (network " +
                                               std::to_string(e) + ", neuron " + std::to_string(h) + " has tau " +
                                               detail::number_text(c.tau.at(e, h)) + ")",
                                given);
  if (c.tau_plasticity.empty()) return;
  if (!c.learn_tau)
    throw InvalidArgument("tau_plasticity", "learn_tau true (it scales the learning of tau)", "learn_tau false");
  if (int64_t(c.tau_plasticity.size()) != c.dims[1])
    throw InvalidArgument("tau_plasticity", std::to_string(c.dims[1]) + " values (one per hidden neuron)",
                          std::to_string(c.tau_plasticity.size()) + " values");
  for (size_t h = 0; h < c.tau_plasticity.size(); ++h)
    if (!std::isfinite(c.tau_plasticity[h]) || c.tau_plasticity[h] < 0)
      throw InvalidArgument("tau_plasticity", "finite numbers >= 0",
                            detail::number_text(c.tau_plasticity[h]) + " for neuron " + std::to_string(h));
}

}  // namespace

Dynamics Config::dynamics(bool noise) const {
  Dynamics d;
  d.activation = activation;
  d.preact_noise.assign(size_t(ensemble_size), 0.0);
  d.postact_noise.assign(size_t(ensemble_size), 0.0);
  for (int64_t e = 0; noise && e < ensemble_size; ++e)
    d.preact_noise[size_t(e)] = preact_noise[e], d.postact_noise[size_t(e)] = postact_noise[e];
  return d;
}

void Config::validate() const {
  for (int i = 0; i < 3; ++i)
    if (dims[i] <= 0)
      throw InvalidArgument("dims", "three positive integers [I, H, O]",
                            "[" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + ", " +
                                std::to_string(dims[2]) + "]");
  if (ensemble_size <= 0) throw InvalidArgument("ensemble_size", "a positive integer", std::to_string(ensemble_size));
  if (ensemble_size > (int64_t(1) << 24))
    throw InvalidArgument("ensemble_size", "at most 2^24 networks", std::to_string(ensemble_size));
  if (first_network < 0 || first_network > (int64_t(1) << 24) - ensemble_size)
    throw InvalidArgument("first_network", "an integer >= 0 with first_network + ensemble_size <= 2^24",
                          std::to_string(first_network));
  for (int l = 0; l < 3; ++l) {  // every array's size (E x pre x post) must be computable
    const auto s = layer_shape(static_cast<Layer>(l));
    checked_product(checked_product(ensemble_size, s[0], "dims"), s[1], "dims");
  }
  if (!std::isfinite(dt) || dt <= 0) throw InvalidArgument("dt", "a finite number > 0", detail::number_text(dt));
  tau.check(ensemble_size, dims[1], dt);
  check_learned_tau(*this);
  auto nonnegative = [](double x) { return std::isfinite(x) && x >= 0; };
  preact_noise.check("preact_noise", nonnegative, "a finite number >= 0", ensemble_size);
  postact_noise.check("postact_noise", nonnegative, "a finite number >= 0", ensemble_size);
  for (int l = 0; l < 3; ++l) {
    const auto s = layer_shape(static_cast<Layer>(l));
    const InitSpec& w = weights[l];
    if (w.kind == InitSpec::Kind::None)
      throw InvalidArgument(indexed("weights", l), "'uniform', 'normal', 'zero' or an array (weights are always learned)",
                            "none");
    if (w.kind == InitSpec::Kind::Array) check_layer_array(w.array, {s[0], s[1]}, ensemble_size, indexed("weights", l));
    if (biases[l].kind == InitSpec::Kind::Array)
      check_layer_array(biases[l].array, {s[1]}, ensemble_size, indexed("biases", l));
  }
  check_masks(sparsity_masks, "sparsity_masks", *this);
  check_masks(ei_masks, "ei_masks", *this);
  check_masks(plasticity_masks, "plasticity_masks", *this);
  check_masks(synapse_growth_masks, "synapse_growth_masks", *this);
  for (int l = 0; l < 3; ++l) {
    if (!synapse_growth_masks[l]) continue;
    if (!sparsity_masks[l])
      throw InvalidArgument(indexed("synapse_growth_masks", l), "a sparsity mask for the same layer (growth adds "
                            "synapses where the sparsity mask is 0)", "no sparsity_masks[" + std::to_string(l) + "]");
    for (int64_t i = 0; i < synapse_growth_masks[l]->numel(); ++i) {
      const double p = synapse_growth_masks[l]->data[i];
      if (p < 0 || p > 1)
        throw InvalidArgument(indexed("synapse_growth_masks", l), "probabilities in [0, 1]",
                              detail::number_text(p) + " at flat index " + std::to_string(i));
    }
  }
}

}  // namespace ctrnn
