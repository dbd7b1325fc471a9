#pragma once
// Every parameter of nn4n's CTRNN (docs/contract.md "Parameters"), with nn4n's defaults, plus the
// seed for all random draws and the ensemble size E. Arrays are pre x post (row = source neuron),
// either (pre, post) shared by all E networks or (E, pre, post) one per network; bias arrays are
// (post) or (E, post).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ctrnn/per_network.hpp"
#include "ctrnn/tensor.hpp"
#include "ctrnn/time_constants.hpp"

namespace ctrnn {

enum class Activation { ReLU, Tanh, Sigmoid, ReTanh };
enum class InitState { Zero, Keep, Learn };
enum class Mode { Train, Eval };
enum class Layer { Input = 0, Hidden = 1, Readout = 2 };

Activation parse_activation(const std::string& name);  // throws InvalidArgument("activation")
InitState parse_init_state(const std::string& name);   // throws InvalidArgument("init_state")
std::string to_string(Activation a);
std::string to_string(InitState s);
std::string to_string(Layer l);  // "input", "hidden", "readout"

// How one layer's weights or biases start: a named distribution or a given array.
struct InitSpec {
  enum class Kind { None, Zero, Uniform, Normal, Array };
  Kind kind = Kind::None;
  ctrnn::Array array;  // used when kind == Array

  static InitSpec none() { return {Kind::None, {}}; }
  static InitSpec zero() { return {Kind::Zero, {}}; }
  static InitSpec uniform() { return {Kind::Uniform, {}}; }
  static InitSpec normal() { return {Kind::Normal, {}}; }
  static InitSpec from(ctrnn::Array a) { return {Kind::Array, std::move(a)}; }
  // "none", "zero", "uniform", "normal"; `parameter` names the field in the error message.
  static InitSpec parse(const std::string& name, const std::string& parameter);
};
std::string to_string(InitSpec::Kind k);

using LayerInits = std::array<InitSpec, 3>;
using LayerMasks = std::array<std::optional<Array>, 3>;

// One value for all three layers, as nn4n broadcasts a single value.
inline LayerInits all_layers(const InitSpec& s) { return {s, s, s}; }

struct Dynamics;

struct Config {
  std::array<int64_t, 3> dims{1, 100, 1};  // [I, H, O]
  Activation activation = Activation::ReLU;
  LayerInits biases = all_layers(InitSpec::none());
  LayerInits weights = all_layers(InitSpec::uniform());
  TimeConstants tau = 100;   // one, per network, per neuron, or per network and neuron
  double dt = 10;
  // Learned time constants (docs/contract.md "Learned time constants"): alpha = dt / tau is then
  // a learned parameter (Params::alpha), kept within [dt / tau_max, 1] after every update.
  bool learn_tau = false;
  std::optional<double> tau_max;  // the largest learned tau (units of dt); none: kDefaultTauMaxSteps * dt
  // (H) scales of each hidden neuron's alpha update (0 freezes its tau), as given; empty: ones.
  std::vector<double> tau_plasticity;
  PerNetwork preact_noise = 0;   // one for all, or one per network
  PerNetwork postact_noise = 0;
  InitState init_state = InitState::Zero;
  LayerMasks sparsity_masks;        // 0 = no synapse, non-zero = synapse
  LayerMasks ei_masks;              // > 0 excitatory, <= 0 inhibitory
  LayerMasks plasticity_masks;      // per-synapse learning-rate scales (normalized together)
  LayerMasks synapse_growth_masks;  // probabilities in [0, 1]; needs a sparsity mask
  // Whether a hidden neuron may connect to itself (W_hid's diagonal), as nn4n's
  // self_connections. false zeroes the diagonal of the hidden sparsity mask (one of all ones
  // when none is given) and of its growth probabilities, so it stays zero through training.
  bool self_connections = true;
  uint64_t seed = 0;
  int64_t ensemble_size = 1;  // E
  // Where this ensemble's networks sit in the seed's random streams: network e draws its initial
  // weights and biases, its noise and its synapse growth as network first_network + e. A
  // one-network run with first_network = k draws exactly as network k of an ensemble with the
  // same seed (docs/contract.md "Parameters"); first_network + E <= 2^24.
  int64_t first_network = 0;

  // tau_max when unset, in steps of dt: learned alpha >= 0.001. A time constant 1000 steps long
  // is already far beyond what BPTT over the T <= a few hundred steps of a trial can shape (its
  // gradient shrinks with alpha), while the bound keeps alpha, the divisor of the alpha gradient
  // and the step's leak, away from 0.
  static constexpr double kDefaultTauMaxSteps = 1000;
  double tau_upper() const { return tau_max ? *tau_max : kDefaultTauMaxSteps * dt; }
  // The lower bound of a learned alpha: dt / tau_upper().
  double alpha_min() const { return dt / tau_upper(); }

  // alpha = dt / tau of every network and hidden neuron: (E, H), row-major: Params::alpha's
  // initial value (the network's alpha is what the engine computes with).
  std::vector<double> alpha() const { return tau.alpha(ensemble_size, dims[1], dt); }
  // The activation and, with `noise` (training mode), the noise sigmas of each network; without,
  // zeros.
  Dynamics dynamics(bool noise) const;  // ctrnn/params.hpp
  int64_t input_dim() const { return dims[0]; }
  int64_t hidden_dim() const { return dims[1]; }
  int64_t output_dim() const { return dims[2]; }
  // (pre, post) of a layer's weight matrix.
  std::array<int64_t, 2> layer_shape(Layer l) const;

  // Throws InvalidArgument naming the first invalid parameter (docs/contract.md "Bad input").
  void validate() const;
};

}  // namespace ctrnn
