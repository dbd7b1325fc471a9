#include "ctrnn/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "ctrnn/dataset.hpp"

namespace ctrnn {

Evaluation evaluate_batch(Network& net, Trainer& trainer, TaskBatch b, bool with_accuracy) {
  net.eval();
  if (with_accuracy && b.label.empty()) b.label = decision_labels(b);
  Evaluation ev;
  ev.loss = trainer.evaluate(b.u, b.target, b.mask.numel() ? &b.mask : nullptr).total;
  const Tensor<float> y = net.last_outputs();
  const int64_t per_network = y.numel() / net.ensemble_size();
  for (int64_t e = 0; e < net.ensemble_size(); ++e) ev.accuracy.push_back(decision_accuracy(b, &y.data[e * per_network]));
  return ev;
}

Evaluation evaluate_on_task(Network& net, Trainer& trainer, const Task& task, int64_t batch_size, uint64_t seed) {
  if (const DataSet* d = task.validation_set() ? task.validation_set() : task.data_set())
    return evaluate_batch(net, trainer, d->all(), task.has_choices());
  return evaluate_batch(net, trainer, task.batch(batch_size, seed, kEvalBatchIndex), task.has_choices());
}

Evaluation validate_during_training(Network& net, Trainer& trainer, const Task& task) {
  const Mode mode = net.mode();
  const uint64_t calls = net.forward_calls();
  const bool keep = net.config().init_state == InitState::Keep;
  const Tensor<float> kept = keep ? net.kept_state() : Tensor<float>();
  if (keep) net.reset_state();
  const Evaluation ev = evaluate_batch(net, trainer, task.validation_set()->all(), task.has_choices());
  if (keep) net.set_kept_state(kept);
  net.set_forward_calls(calls);
  if (mode == Mode::Train) net.train();
  return ev;
}

namespace {
std::string stat(const char* name, const std::vector<double>& x, const char* fmt) {
  char buf[160];
  if (x.size() == 1) {
    std::snprintf(buf, sizeof buf, "%s ", name);
    std::string s = buf;
    std::snprintf(buf, sizeof buf, fmt, x[0]);
    return s + buf;
  }
  double mean = 0;
  for (double v : x) mean += v / double(x.size());
  const auto mm = std::minmax_element(x.begin(), x.end());
  std::string s = std::string(name) + " mean ";
  std::snprintf(buf, sizeof buf, fmt, mean);
  s += buf;
  s += " [";
  std::snprintf(buf, sizeof buf, fmt, *mm.first);
  s += buf;
  s += ", ";
  std::snprintf(buf, sizeof buf, fmt, *mm.second);
  return s + buf + "]";
}
}  // namespace

std::string summarize(const std::vector<double>& loss, const std::vector<double>& accuracy) {
  std::string s = stat("loss", loss, "%.5f");
  if (!accuracy.empty() && !std::isnan(accuracy[0])) s += " | " + stat("acc", accuracy, "%.3f");
  return s;
}

}  // namespace ctrnn
