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

// An optimizer config and loss weights from the Python Trainer's arguments (both validated by the
// library when the trainer is made).
OptimizerConfig make_optimizer(const std::string& kind, double lr, double beta1, double beta2, double eps,
                               double momentum, double weight_decay, double clip);
LossWeights make_loss_weights(const nanobind::dict& lambdas);  // keys: kLossTermNames

}  // namespace ctrnn::python
