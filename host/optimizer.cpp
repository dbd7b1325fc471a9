#include "ctrnn/optimizer.hpp"

#include <cmath>

#include "ctrnn/error.hpp"
#include "number_text.hpp"

namespace ctrnn {

OptimizerConfig::Kind parse_optimizer(const std::string& name) {
  if (name == "adam") return OptimizerConfig::Kind::Adam;
  if (name == "sgd") return OptimizerConfig::Kind::SGD;
  throw InvalidArgument("optimizer", "one of 'adam', 'sgd'", "'" + name + "'");
}

std::string to_string(OptimizerConfig::Kind k) { return k == OptimizerConfig::Kind::Adam ? "adam" : "sgd"; }

void OptimizerConfig::validate(const std::string& prefix) const {
  auto check = [&](bool ok, const char* name, const char* expected, double v) {
    if (!ok) throw InvalidArgument(prefix + name, expected, detail::number_text(v));
  };
  check(std::isfinite(lr) && lr > 0, "lr", "a finite number > 0", lr);
  check(beta1 >= 0 && beta1 < 1, "beta1", "a number in [0, 1)", beta1);
  check(beta2 >= 0 && beta2 < 1, "beta2", "a number in [0, 1)", beta2);
  check(std::isfinite(eps) && eps >= 0, "eps", "a finite number >= 0", eps);
  check(std::isfinite(momentum) && momentum >= 0, "momentum", "a finite number >= 0", momentum);
  check(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay", "a finite number >= 0", weight_decay);
  check(std::isfinite(clip_grad_norm) && clip_grad_norm >= 0, "clip_grad_norm", "a finite number >= 0 (0: off)",
        clip_grad_norm);
}

}  // namespace ctrnn
