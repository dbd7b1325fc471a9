#pragma once
// The per-network constants of a training step, computed on the host in double and read by the
// update and loss bodies from memory (one array of E, in the orchestrated backend's input arena:
// one graph serves every step and every set of values): each network's own optimizer values and
// loss lambdas (PerNetwork), and Adam's step-dependent constants from its own lr.
#include <cstdint>

#include "ctrnn/loss.hpp"
#include "ctrnn/optimizer.hpp"
#include "kernels/update_bodies.hpp"

namespace ctrnn::body {

struct NetworkCoeffs {
  AdamCoeffs adam;                    // zeros unless Adam
  double lr, momentum, weight_decay;  // SGD's (rounded to the parameters' type in the update)
  double clip;                        // clip_grad_norm's max norm; 0: none
  double lambda[kNumLossTerms];       // LossTerm order

  // Network e's constants at optimizer step `step` (1-based; 0: no step, Adam's constants zero).
  // Host only.
  static NetworkCoeffs of(const OptimizerConfig& opt, const LossWeights& w, int64_t step, int64_t e) {
    NetworkCoeffs c{};
    if (step > 0) c.adam = AdamCoeffs::of(opt, step, e);
    c.lr = opt.lr[e], c.momentum = opt.momentum[e], c.weight_decay = opt.weight_decay[e];
    c.clip = opt.clip_grad_norm[e];
    for (int k = 0; k < kNumLossTerms; ++k) c.lambda[k] = w.lambda[k][e];
    return c;
  }
};

}  // namespace ctrnn::body
