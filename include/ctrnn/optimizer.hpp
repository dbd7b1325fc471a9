#pragma once
// Optimizer settings with PyTorch's semantics (torch.optim.Adam, torch.optim.SGD) and gradient
// clipping by global norm (torch.nn.utils.clip_grad_norm_), applied per network of an ensemble.
// lr, momentum, weight_decay and clip_grad_norm are one value for all networks or one per network
// (PerNetwork).
#include <cstdint>
#include <string>

#include "ctrnn/per_network.hpp"

namespace ctrnn {

struct OptimizerConfig {
  enum class Kind { Adam, SGD };
  Kind kind = Kind::Adam;
  PerNetwork lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam
  PerNetwork momentum = 0;                        // SGD
  PerNetwork weight_decay = 0;                    // L2 added to the gradient, as PyTorch does
  PerNetwork clip_grad_norm = 0;                  // max global norm per network; 0 = no clipping

  // Throws InvalidArgument naming the field, prefixed by `prefix` (e.g. "training."), and the
  // network of a bad per-network value; with E > 0 also a per-network value without E entries.
  void validate(const std::string& prefix = "", int64_t E = 0) const;
};

OptimizerConfig::Kind parse_optimizer(const std::string& name);  // "adam", "sgd"
std::string to_string(OptimizerConfig::Kind k);

}  // namespace ctrnn
