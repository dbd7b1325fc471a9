#pragma once
// A small shared library built on ctrnn: trains an ensemble on the perceptual-decision task.
#include <vector>

// Trains `ensemble_size` networks together for `steps` Adam steps and returns the mean loss of
// each step.
std::vector<double> train_perceptual_decision(int ensemble_size, int steps);
