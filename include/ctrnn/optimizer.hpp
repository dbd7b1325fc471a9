#pragma once
// Optimizer settings with PyTorch's semantics (torch.optim.Adam, torch.optim.SGD) and gradient
// clipping by global norm (torch.nn.utils.clip_grad_norm_), applied per network of an ensemble.
#include <string>

namespace ctrnn {

struct OptimizerConfig {
  enum class Kind { Adam, SGD };
  Kind kind = Kind::Adam;
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam
  double momentum = 0;                            // SGD
  double weight_decay = 0;                        // L2 added to the gradient, as PyTorch does
  double clip_grad_norm = 0;                      // max global norm per network; 0 = no clipping

  // Throws InvalidArgument naming the field, prefixed by `prefix` (e.g. "training.").
  void validate(const std::string& prefix = "") const;
};

OptimizerConfig::Kind parse_optimizer(const std::string& name);  // "adam", "sgd"
std::string to_string(OptimizerConfig::Kind k);

}  // namespace ctrnn
