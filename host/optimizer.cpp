#include "ctrnn/optimizer.hpp"

#include <cmath>

#include "ctrnn/error.hpp"
#include "ctrnn/loss.hpp"
#include "number_text.hpp"

namespace ctrnn {

OptimizerConfig::Kind parse_optimizer(const std::string& name) {
  if (name == "adam") return OptimizerConfig::Kind::Adam;
  if (name == "sgd") return OptimizerConfig::Kind::SGD;
  throw InvalidArgument("optimizer", "one of 'adam', 'sgd'", "'" + name + "'");
}

std::string to_string(OptimizerConfig::Kind k) { return k == OptimizerConfig::Kind::Adam ? "adam" : "sgd"; }

void OptimizerConfig::validate(const std::string& prefix, int64_t E) const {
  auto check = [&](bool ok, const char* name, const char* expected, double v) {
    if (!ok) throw InvalidArgument(prefix + name, expected, detail::number_text(v));
  };
  auto finite_at_least = [](double lo, bool strict) {
    return [=](double x) { return std::isfinite(x) && (strict ? x > lo : x >= lo); };
  };
  lr.check(prefix + "lr", finite_at_least(0, true), "a finite number > 0", E);
  check(beta1 >= 0 && beta1 < 1, "beta1", "a number in [0, 1)", beta1);
  check(beta2 >= 0 && beta2 < 1, "beta2", "a number in [0, 1)", beta2);
  check(std::isfinite(eps) && eps >= 0, "eps", "a finite number >= 0", eps);
  momentum.check(prefix + "momentum", finite_at_least(0, false), "a finite number >= 0", E);
  weight_decay.check(prefix + "weight_decay", finite_at_least(0, false), "a finite number >= 0", E);
  clip_grad_norm.check(prefix + "clip_grad_norm", finite_at_least(0, false), "a finite number >= 0 (0: off)", E);
}

void LossWeights::validate(const std::string& prefix, int64_t E) const {
  for (int k = 0; k < kNumLossTerms; ++k)
    lambda[k].check(prefix + "lambda_" + kLossTermNames[k], [](double x) { return std::isfinite(x) && x >= 0; },
                    "a finite number >= 0", E);
}

}  // namespace ctrnn
