#pragma once
// The parts of ctrnn._core, one file each (module.cpp puts them together).
#include <nanobind/nanobind.h>

#include <string>

#include "ctrnn/loss.hpp"
#include "ctrnn/optimizer.hpp"

namespace ctrnn::python {

void bind_network(nanobind::module_& m);
void bind_trainer(nanobind::module_& m);
void bind_checkpoint(nanobind::module_& m);
void bind_tasks(nanobind::module_& m);
void bind_analysis(nanobind::module_& m);
void bind_sweep(nanobind::module_& m);

// A per-network value from Python: a number (every network) or {"per_network": [numbers]}
// (ctrnn.per_network); anything else raises ctrnn.InvalidArgument naming `name`.
PerNetwork to_per_network(nanobind::handle v, const std::string& name);

// An optimizer config and loss weights from the Python Trainer's arguments (both validated by the
// library when the trainer is made); lr, momentum, weight_decay, clip and each lambda as
// to_per_network takes them.
OptimizerConfig make_optimizer(const std::string& kind, nanobind::handle lr, double beta1, double beta2, double eps,
                               nanobind::handle momentum, nanobind::handle weight_decay, nanobind::handle clip);
LossWeights make_loss_weights(const nanobind::dict& lambdas);  // keys: kLossTermNames

}  // namespace ctrnn::python
