#pragma once
// Training steps for a network (all E networks of an ensemble at once, each with its own loss):
// forward, loss (docs/contract.md "Loss"), BPTT, per-network gradient clipping, optimizer update
// scaled by plasticity, constraint projection, synapse growth.
#include <array>
#include <cstdint>
#include <vector>

#include "ctrnn/error.hpp"
#include "ctrnn/loss.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/optimizer.hpp"

namespace ctrnn {

namespace detail {
template <class T>
struct LossArgs;
}  // namespace detail

// Training cannot go on: at step `step` the last networks still training diverged (network
// `network` among them), so every network of the ensemble has now diverged; the step changed
// nothing (see BasicTrainer::step). A network diverges when its loss is NaN or Inf (`value`), or
// when its update would make a parameter or optimizer moment NaN or Inf (`value` finite).
class NonFiniteLoss : public StateError {
 public:
  NonFiniteLoss(int64_t step, int64_t network, double value);
  int64_t step() const { return step_; }
  int64_t network() const { return network_; }

 private:
  int64_t step_, network_;
};

struct LossReport {
  std::vector<std::array<double, kNumLossTerms>> terms;  // (E) unweighted terms
  std::vector<double> total;                             // (E) sum of lambda * term
  std::vector<double> grad_norm;                         // (E) before clipping (empty for evaluate)
  std::vector<bool> diverged;  // (E) after a training step: networks that have diverged (empty for evaluate)
};

// What a training run needs besides the network: the optimizer's moments and the step count.
template <class T>
struct TrainerState : OptimizerState<T> {
  int64_t step = 0;            // optimizer steps taken
  std::vector<bool> diverged;  // (E) networks frozen after diverging (BasicTrainer::step); empty: none
};

template <class T>
class BasicTrainer {
 public:
  // The optimizer values and lambdas may be per network (PerNetwork: one value each for the E
  // networks). Throws InvalidArgument naming the parameter (and the network) for an invalid
  // optimizer config, a negative lambda, or a per-network value without E entries. The trainer
  // keeps a reference to `net`, which must outlive it and stay where it is (not moved from).
  BasicTrainer(BasicNetwork<T>& net, OptimizerConfig opt, LossWeights weights = {});

  // One training step on a batch. u: (T, B, I) or (E, T, B, I); target: (T, B, O) or
  // (E, T, B, O); mask: none, (T, B) or (T, B, O), weights >= 0 with a positive sum. A network
  // whose loss is NaN or Inf, or whose update would make a parameter or moment NaN or Inf,
  // diverges: it is not updated, now or later (its parameters and optimizer state keep their last
  // good values), and LossReport::diverged marks it; the other networks train on. When every
  // network has diverged, throws NonFiniteLoss and the step changes nothing (the networks that
  // diverged in it are not marked; the forward still counts: noise stream and keep state move
  // on), so a one-network run stops at its first non-finite loss. Copies no outputs or rates to
  // the host (last_outputs() on the network reads them).
  LossReport step(const Tensor<T>& u, const Tensor<T>& target, const Tensor<T>* mask = nullptr);

  // The loss on a batch without changing anything but the noise stream and keep state.
  LossReport evaluate(const Tensor<T>& u, const Tensor<T>& target, const Tensor<T>* mask = nullptr);

  // The same with views (ctrnn/view.hpp) on the host or on the network's CUDA device, read in
  // place, work ordered on `stream` as BasicNetwork::forward's; the host waits only for the small
  // loss report. Views are checked as forward()'s ("inputs", "target", "mask"); values on a GPU are
  // not checked (a NaN there gives a NonFiniteLoss; a mask without a positive weight a loss of NaN).
  LossReport step(const View& u, const View& target, const View* mask = nullptr, Stream stream = {});
  LossReport evaluate(const View& u, const View& target, const View* mask = nullptr, Stream stream = {});

  int64_t steps_done() const { return step_; }
  const OptimizerConfig& optimizer() const { return opt_; }
  const LossWeights& loss_weights() const { return weights_; }
  // (E) the networks that have diverged (no device read).
  std::vector<bool> diverged() const;
  TrainerState<T> state() const;
  void restore(const TrainerState<T>& s);  // checks shapes

 private:
  // Checks target and mask against the (T, B) of the forward `f` (before anything runs) and
  // builds the backend's loss arguments.
  detail::LossArgs<T> loss_args(const detail::ForwardArgs<T>& f, const View& target, const View* mask) const;

  BasicNetwork<T>& net_;
  OptimizerConfig opt_;
  LossWeights weights_;
  int64_t step_ = 0;
};

using Trainer = BasicTrainer<float>;

extern template class BasicTrainer<float>;

}  // namespace ctrnn
