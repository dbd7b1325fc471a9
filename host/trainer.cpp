#include "ctrnn/trainer.hpp"

#include <algorithm>
#include <cmath>

#include "backend.hpp"
#include "double_network.hpp"
#include "tensor_checks.hpp"
#include "view_support.hpp"

namespace ctrnn {

namespace {

std::string non_finite_message(int64_t step, int64_t network, double value) {
  const std::string where = " at step " + std::to_string(step) + " (network " + std::to_string(network) + ")";
  if (std::isfinite(value))
    return "ctrnn: the update would make parameters or optimizer moments NaN or Inf" + where +
           "; the step was not applied";
  return "ctrnn: the loss became " + std::string(std::isnan(value) ? "NaN" : "Inf") + where +
         "; the step was not applied";
}

}  // namespace

NonFiniteLoss::NonFiniteLoss(int64_t step, int64_t network, double value)
    : StateError(non_finite_message(step, network, value)), step_(step), network_(network) {}

template <class T>
BasicTrainer<T>::BasicTrainer(BasicNetwork<T>& net, OptimizerConfig opt, LossWeights weights)
    : net_(net), opt_(opt), weights_(weights) {
  opt_.validate("", net.config().ensemble_size);
  weights_.validate("", net.config().ensemble_size);
}

namespace {

LossReport report(const std::vector<double>& terms, const LossWeights& w, int64_t E) {
  LossReport r;
  r.terms.resize(E);
  r.total.assign(E, 0.0);
  for (int64_t e = 0; e < E; ++e)
    for (int k = 0; k < kNumLossTerms; ++k) {
      r.terms[e][k] = terms[e * kNumLossTerms + k];
      r.total[e] += w.lambda[k][e] * r.terms[e][k];
    }
  return r;
}

}  // namespace

template <class T>
detail::LossArgs<T> BasicTrainer<T>::loss_args(const detail::ForwardArgs<T>& f, const View& target,
                                               const View* mask) const {
  const Config& c = net_.config();
  const int64_t E = c.ensemble_size, O = c.dims[2], steps = f.steps, B = f.batch;
  const Shape tshape{steps, B, O}, tshape_e{E, steps, B, O};
  const detail::Located<T> tgt = net_.checked(target, "target");
  if (target.shape != tshape && target.shape != tshape_e)
    throw InvalidArgument("target", "shape " + shape_to_string(tshape) + " or " + shape_to_string(tshape_e),
                          shape_to_string(target.shape));
  if (!tgt.on_device()) detail::check_finite(tgt.ptr, element_count(target.shape), "target");
  detail::LossArgs<T> a;
  a.target = tgt;
  a.target_per_network = target.shape == tshape_e;
  a.weights = weights_;
  if (mask) {
    const detail::Located<T> m = net_.checked(*mask, "mask");
    if (mask->shape == Shape{steps, B}) a.mask_shape = LossMask::TimeBatch;
    else if (mask->shape == tshape) a.mask_shape = LossMask::TimeBatchOutput;
    else
      throw InvalidArgument("mask", "shape " + shape_to_string({steps, B}) + " or " + shape_to_string(tshape),
                            shape_to_string(mask->shape));
    if (!m.on_device()) {
      const int64_t n = element_count(mask->shape);
      detail::check_finite(m.ptr, n, "mask", /*nonnegative=*/true);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += double(m.ptr[i]);
      if (!(sum > 0)) throw InvalidArgument("mask", "at least one positive weight", "all zero");
    }
    a.mask = m;
  }
  return a;
}

template <class T>
LossReport BasicTrainer<T>::step(const View& u, const View& target, const View* mask, Stream stream) {
  const int64_t E = net_.config().ensemble_size;
  const detail::ForwardArgs<T> f = net_.forward_args(u);
  const detail::LossArgs<T> l = loss_args(f, target, mask);
  // One call: on the GPU one graph, one upload and one read of the report; each network is
  // updated unless it has diverged (decided on the device).
  const std::vector<uint8_t> before = net_.backend_->diverged();
  detail::StepResult s;
  {
    detail::StreamScope<T> scope(*net_.backend_, stream);
    s = net_.backend_->train_step(f, l, opt_, step_ + 1);
  }
  net_.forward_done(f);
  LossReport r = report(s.terms, weights_, E);
  if (std::find(s.diverged.begin(), s.diverged.end(), uint8_t(0)) == s.diverged.end()) {
    // Every network has diverged: the run cannot go on. The step changed no parameter; undo its
    // marks so that it changed nothing, and name a network that diverged in it.
    net_.backend_->set_diverged(before);
    int64_t e = 0;
    while (e + 1 < E && before[size_t(e)]) ++e;
    throw NonFiniteLoss(step_ + 1, e, r.total[size_t(e)]);
  }
  r.grad_norm = std::move(s.grad_norm);
  r.diverged.assign(s.diverged.begin(), s.diverged.end());
  ++step_;
  net_.backend_->grow_synapses(net_.config().seed, step_);
  net_.host_stale_ = true;
  return r;
}

template <class T>
LossReport BasicTrainer<T>::evaluate(const View& u, const View& target, const View* mask, Stream stream) {
  const detail::ForwardArgs<T> f = net_.forward_args(u);
  const detail::LossArgs<T> l = loss_args(f, target, mask);
  detail::StreamScope<T> scope(*net_.backend_, stream);
  net_.backend_->forward(f);
  net_.forward_done(f);
  return report(net_.backend_->loss(l), weights_, net_.config().ensemble_size);
}

template <class T>
LossReport BasicTrainer<T>::step(const Tensor<T>& u, const Tensor<T>& target, const Tensor<T>* mask) {
  const View uv = detail::tensor_view(u, "inputs"), tv = detail::tensor_view(target, "target");
  const View mv = mask ? detail::tensor_view(*mask, "mask") : View{};
  return step(uv, tv, mask ? &mv : nullptr);
}

template <class T>
LossReport BasicTrainer<T>::evaluate(const Tensor<T>& u, const Tensor<T>& target, const Tensor<T>* mask) {
  const View uv = detail::tensor_view(u, "inputs"), tv = detail::tensor_view(target, "target");
  const View mv = mask ? detail::tensor_view(*mask, "mask") : View{};
  return evaluate(uv, tv, mask ? &mv : nullptr);
}

template <class T>
std::vector<bool> BasicTrainer<T>::diverged() const {
  const std::vector<uint8_t> d = net_.backend_->diverged();
  return std::vector<bool>(d.begin(), d.end());
}

template <class T>
TrainerState<T> BasicTrainer<T>::state() const {
  TrainerState<T> s;
  net_.backend_->get_optimizer_state(s);
  s.step = step_;
  s.diverged = diverged();
  return s;
}

template <class T>
void BasicTrainer<T>::restore(const TrainerState<T>& s) {
  const Params<T>& p = net_.params();
  auto same_shapes = [&](const Params<T>& q) {
    auto a = p.arrays();
    auto b = q.arrays();
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i]->size() != b[i]->size()) return false;
    return true;
  };
  if (s.step < 0) throw InvalidArgument("optimizer state", "a step count >= 0", std::to_string(s.step));
  if (!same_shapes(s.m) || !same_shapes(s.v))
    throw InvalidArgument("optimizer state", "moments shaped like the network's parameters", "other shapes");
  const int64_t E = net_.config().ensemble_size;
  if (!s.diverged.empty() && int64_t(s.diverged.size()) != E)
    throw InvalidArgument("diverged", std::to_string(E) + " flags (one per network) or none",
                          std::to_string(s.diverged.size()));
  std::vector<uint8_t> d(size_t(E), 0);
  for (size_t e = 0; e < s.diverged.size(); ++e) d[e] = s.diverged[e] ? 1 : 0;
  if (std::find(d.begin(), d.end(), uint8_t(0)) == d.end())
    throw InvalidArgument("diverged", "at least one network that has not diverged", "all " + std::to_string(E));
  net_.backend_->set_optimizer_state(s);
  net_.backend_->set_diverged(d);
  step_ = s.step;
}

template class BasicTrainer<float>;
template class BasicTrainer<double>;

}  // namespace ctrnn
