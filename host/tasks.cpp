// The built-in tasks:
//  sine                 nn4n's quickstart: predict the next value of a sine wave.
//  perceptual_decision  two noisy evidence streams after a fixation period; report the stronger
//                       one in the decision period (the loss counts only there).
//  delayed_match        working memory: a sample stimulus, a delay, a test stimulus; report match
//                       or non-match in the decision period.
//  flip_flop            FixedPointFinder's n-bit flip-flop: each output holds the sign of the last
//                       pulse on its input (8 stable states for 3 bits).
// and the dispatch to data-file tasks (dataset.cpp).
#include "ctrnn/tasks.hpp"

#include <filesystem>

#include <cmath>
#include <algorithm>
#include <limits>
#include <sstream>
#include <nlohmann/json.hpp>

#include "ctrnn/dataset.hpp"
#include "ctrnn/error.hpp"
#include "kernels/philox.hpp"
#include "memory_budget.hpp"

namespace ctrnn {

using nlohmann::json;

namespace {
// A batch of B trials of T steps holds T B (I + O + 1) floats and B labels: refused, naming the
// batch size, when it cannot fit in host memory.
void check_batch_fits(int64_t T, int64_t B, int64_t I, int64_t O) {
  const std::string b = std::to_string(B);
  if (B <= 0) throw InvalidArgument("batch size", "a positive integer", b);
  const int64_t floats = detail::checked_product({T, B, I + O + 1}, "batch size", b);
  detail::require_memory("batch size", b, detail::checked_product({floats + B, int64_t(sizeof(float))}, "batch size", b),
                         detail::host_memory_available(), "host memory");
}
}  // namespace

double decision_accuracy(const TaskBatch& b, const float* y) {
  if (b.label.empty()) return std::numeric_limits<double>::quiet_NaN();
  const int64_t T = b.target.shape[0], B = b.target.shape[1], O = b.target.shape[2];
  const bool per_output = b.mask.rank() == 3;
  int64_t correct = 0;
  for (int64_t i = 0; i < B; ++i) {
    std::vector<double> mean(O, 0.0);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < O; ++o) {
        const double w = b.mask.numel() == 0 ? 1.0 : per_output ? b.mask.data[(t * B + i) * O + o] : b.mask.data[t * B + i];
        mean[o] += w * y[(t * B + i) * O + o];
      }
    correct += std::max_element(mean.begin(), mean.end()) - mean.begin() == b.label[i];
  }
  return double(correct) / double(B);
}

namespace {

// Reads task parameters, refusing keys nobody asked for.
class Params {
 public:
  explicit Params(const json& j) : j_(j) {}
  double number(const std::string& key, double fallback, double lo, double hi) {
    seen_.push_back(key);
    if (!j_.contains(key)) return fallback;
    if (!j_[key].is_number() || j_[key].get<double>() < lo || j_[key].get<double>() > hi)
      throw InvalidArgument("task." + key, "a number in [" + num(lo) + ", " + num(hi) + "]", j_[key].dump());
    return j_[key].get<double>();
  }
  int64_t integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) {
    seen_.push_back(key);
    if (!j_.contains(key)) return fallback;
    if (!j_[key].is_number_integer() || j_[key].get<int64_t>() < lo || j_[key].get<int64_t>() > hi)
      throw InvalidArgument("task." + key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]",
                            j_[key].dump());
    return j_[key].get<int64_t>();
  }
  std::vector<double> numbers(const std::string& key, std::vector<double> fallback, double lo, double hi) {
    seen_.push_back(key);
    if (!j_.contains(key)) return fallback;
    const json& v = j_[key];
    if (!v.is_array() || v.empty()) throw InvalidArgument("task." + key, "a non-empty list of numbers", v.dump());
    std::vector<double> out;
    for (const auto& x : v) {
      if (!x.is_number() || x.get<double>() < lo || x.get<double>() > hi)
        throw InvalidArgument("task." + key, "numbers in [" + num(lo) + ", " + num(hi) + "]", x.dump());
      out.push_back(x.get<double>());
    }
    return out;
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (it.key() != "name" && std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end())
        throw InvalidArgument("task." + it.key(), "a parameter of task '" + j_["name"].get<std::string>() + "'",
                              "unknown key");
  }

 private:
  static std::string num(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  }
  const json& j_;
  std::vector<std::string> seen_;
};

// Random numbers of batch `index`: uniform(k) and normal(k) for k = 0, 1, ...
struct BatchRandom {
  RandomStream s;
  BatchRandom(uint64_t seed, uint64_t index)
      : s(seed, RandomPurpose::TaskData, 0, uint32_t(index), uint32_t(index >> 32)) {}
  float uniform(uint32_t k) const { return s.uniform(k); }
  float normal(uint32_t k) const { return s.normal(k); }
};

class SineTask final : public Task {
 public:
  explicit SineTask(Params& p)
      : steps_(p.integer("steps", 100, 2, 100000)), omega_(p.number("frequency", 0.05, 1e-6, 1.0) * 2 * M_PI) {}
  std::string name() const override { return "sine"; }
  bool has_choices() const override { return false; }
  int64_t input_dim() const override { return 1; }
  int64_t output_dim() const override { return 1; }
  int64_t steps() const override { return steps_; }
  TaskBatch batch(int64_t B, uint64_t seed, uint64_t index) const override {
    check_batch_fits(steps_, B, 1, 1);
    const BatchRandom rng(seed, index);
    TaskBatch b{Tensor<float>({steps_, B, 1}), Tensor<float>({steps_, B, 1}), {}, {}};
    for (int64_t i = 0; i < B; ++i) {
      const double phase = 2 * M_PI * rng.uniform(uint32_t(i));
      for (int64_t t = 0; t < steps_; ++t) {
        b.u.data[t * B + i] = float(std::sin(omega_ * double(t) + phase));
        b.target.data[t * B + i] = float(std::sin(omega_ * double(t + 1) + phase));
      }
    }
    return b;
  }

 private:
  int64_t steps_;
  double omega_;
};

// Trial periods in steps, and the decision period's loss mask.
struct Periods {
  std::vector<int64_t> length;
  int64_t total() const {
    int64_t s = 0;
    for (int64_t l : length) s += l;
    return s;
  }
  int64_t start(size_t k) const {
    int64_t s = 0;
    for (size_t i = 0; i < k; ++i) s += length[i];
    return s;
  }
};

class PerceptualDecisionTask final : public Task {
 public:
  explicit PerceptualDecisionTask(Params& p)
      : periods_{{p.integer("fixation_steps", 10, 1, 10000), p.integer("stimulus_steps", 30, 1, 10000),
                  p.integer("decision_steps", 10, 1, 10000)}},
        coherences_(p.numbers("coherences", {0.1, 0.2, 0.4, 0.8}, 0, 1)),
        noise_(p.number("stimulus_noise", 0.5, 0, 100)) {}
  std::string name() const override { return "perceptual_decision"; }
  bool has_choices() const override { return true; }
  int64_t input_dim() const override { return 3; }   // fixation cue, evidence for choice 0, for choice 1
  int64_t output_dim() const override { return 2; }  // choice 0, choice 1
  int64_t steps() const override { return periods_.total(); }
  TaskBatch batch(int64_t B, uint64_t seed, uint64_t index) const override {
    const BatchRandom rng(seed, index);
    const int64_t T = steps(), stim = periods_.start(1), decision = periods_.start(2);
    check_batch_fits(T, B, 3, 2);
    TaskBatch b{Tensor<float>({T, B, 3}), Tensor<float>({T, B, 2}), Tensor<float>({T, B}), std::vector<int>(B)};
    uint32_t k = 0;
    for (int64_t i = 0; i < B; ++i) {
      const int choice = rng.uniform(k++) < 0.5f ? 0 : 1;
      const double coh = coherences_[std::min<size_t>(size_t(rng.uniform(k++) * coherences_.size()), coherences_.size() - 1)];
      b.label[i] = choice;
      for (int64_t t = 0; t < T; ++t) {
        float* u = &b.u.data[(t * B + i) * 3];
        u[0] = t < decision ? 1.0f : 0.0f;
        if (t >= stim && t < decision) {
          u[1] = float(0.5 * (1 + (choice == 0 ? coh : -coh)) + noise_ * rng.normal(k++));
          u[2] = float(0.5 * (1 + (choice == 1 ? coh : -coh)) + noise_ * rng.normal(k++));
        }
        if (t >= decision) {
          b.target.data[(t * B + i) * 2 + choice] = 1.0f;
          b.mask.data[t * B + i] = 1.0f;
        }
      }
    }
    return b;
  }

 private:
  Periods periods_;
  std::vector<double> coherences_;
  double noise_;
};

class DelayedMatchTask final : public Task {
 public:
  explicit DelayedMatchTask(Params& p)
      : periods_{{p.integer("fixation_steps", 5, 1, 10000), p.integer("sample_steps", 10, 1, 10000),
                  p.integer("delay_steps", 20, 0, 10000), p.integer("test_steps", 10, 1, 10000),
                  p.integer("decision_steps", 10, 1, 10000)}},
        stimuli_(p.integer("stimuli", 4, 2, 1000)),
        noise_(p.number("stimulus_noise", 0.1, 0, 100)) {}
  std::string name() const override { return "delayed_match"; }
  bool has_choices() const override { return true; }
  int64_t input_dim() const override { return 1 + stimuli_; }  // fixation cue, one channel per stimulus
  int64_t output_dim() const override { return 2; }             // match, non-match
  int64_t steps() const override { return periods_.total(); }
  TaskBatch batch(int64_t B, uint64_t seed, uint64_t index) const override {
    const BatchRandom rng(seed, index);
    const int64_t T = steps(), I = input_dim();
    check_batch_fits(T, B, I, 2);
    TaskBatch b{Tensor<float>({T, B, I}), Tensor<float>({T, B, 2}), Tensor<float>({T, B}), std::vector<int>(B)};
    uint32_t k = 0;
    for (int64_t i = 0; i < B; ++i) {
      const int64_t sample = std::min<int64_t>(int64_t(rng.uniform(k++) * stimuli_), stimuli_ - 1);
      const bool match = rng.uniform(k++) < 0.5f;
      int64_t test = sample;
      if (!match) test = (sample + 1 + std::min<int64_t>(int64_t(rng.uniform(k++) * (stimuli_ - 1)), stimuli_ - 2)) % stimuli_;
      b.label[i] = match ? 0 : 1;
      for (int64_t t = 0; t < T; ++t) {
        float* u = &b.u.data[(t * B + i) * I];
        u[0] = t < periods_.start(4) ? 1.0f : 0.0f;
        const bool in_sample = t >= periods_.start(1) && t < periods_.start(2);
        const bool in_test = t >= periods_.start(3) && t < periods_.start(4);
        for (int64_t s = 0; s < stimuli_; ++s) {
          const bool on = (in_sample && s == sample) || (in_test && s == test);
          u[1 + s] = float((on ? 1.0 : 0.0) + (in_sample || in_test ? noise_ * rng.normal(k++) : 0.0));
        }
        if (t >= periods_.start(4)) {
          b.target.data[(t * B + i) * 2 + b.label[i]] = 1.0f;
          b.mask.data[t * B + i] = 1.0f;
        }
      }
    }
    return b;
  }

 private:
  Periods periods_;
  int64_t stimuli_;
  double noise_;
};

// Each of `bits` channels carries, at every step with probability pulse_probability, a pulse of
// random sign (+-1, held for pulse_steps steps); output k is the sign of channel k's last pulse,
// 0 before its first. Every step counts in the loss (no mask).
class FlipFlopTask final : public Task {
 public:
  explicit FlipFlopTask(Params& p)
      : steps_(p.integer("steps", 100, 1, 100000)), bits_(p.integer("bits", 3, 1, 1000)),
        probability_(p.number("pulse_probability", 0.05, 0, 1)), pulse_steps_(p.integer("pulse_steps", 1, 1, 1000)) {}
  std::string name() const override { return "flip_flop"; }
  bool has_choices() const override { return false; }
  int64_t input_dim() const override { return bits_; }
  int64_t output_dim() const override { return bits_; }
  int64_t steps() const override { return steps_; }
  TaskBatch batch(int64_t B, uint64_t seed, uint64_t index) const override {
    const BatchRandom rng(seed, index);
    const int64_t T = steps_, K = bits_;
    check_batch_fits(T, B, K, K);
    TaskBatch b{Tensor<float>({T, B, K}), Tensor<float>({T, B, K}), {}, {}};
    uint32_t k = 0;
    for (int64_t i = 0; i < B; ++i)
      for (int64_t c = 0; c < K; ++c) {
        float state = 0.0f, pulse = 0.0f;
        int64_t left = 0;  // steps of the current pulse still to come
        for (int64_t t = 0; t < T; ++t) {
          if (left == 0 && rng.uniform(k++) < probability_) {
            pulse = rng.uniform(k++) < 0.5f ? -1.0f : 1.0f;
            left = pulse_steps_;
            state = pulse;
          }
          b.u.data[(t * B + i) * K + c] = left > 0 ? pulse : 0.0f;
          b.target.data[(t * B + i) * K + c] = state;
          if (left > 0) --left;
        }
      }
    return b;
  }

 private:
  int64_t steps_, bits_;
  double probability_;
  int64_t pulse_steps_;
};

}  // namespace

namespace {

json parse_task_json(const std::string& json_text) {
  try {
    json j = json::parse(json_text);
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  throw InvalidArgument("task", "a JSON object", json_text.substr(0, 60));
}

std::string path_value(const json& j, const std::string& key) {
  if (!j[key].is_string() || j[key].get<std::string>().empty())
    throw InvalidArgument("task." + key, "the path of a safetensors data file", j[key].dump());
  return j[key].get<std::string>();
}

std::unique_ptr<Task> make_data_task(const json& j) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "data" && it.key() != "val_data" && it.key() != "decision_accuracy")
      throw InvalidArgument("task." + it.key(), "'data', 'val_data' or 'decision_accuracy' in a data-file task",
                            "unknown key");
  if (j.contains("decision_accuracy") && !j["decision_accuracy"].is_boolean())
    throw InvalidArgument("task.decision_accuracy", "true or false", j["decision_accuracy"].dump());
  return make_data_set_task(path_value(j, "data"), j.contains("val_data") ? path_value(j, "val_data") : "",
                            j.value("decision_accuracy", false));
}

}  // namespace

std::unique_ptr<Task> make_task(const std::string& json_text) {
  const json j = parse_task_json(json_text);
  if (j.contains("data")) return make_data_task(j);
  const char* expected = "one of 'sine', 'perceptual_decision', 'delayed_match', 'flip_flop' (or a \"data\" file)";
  if (!j.contains("name") || !j["name"].is_string())
    throw InvalidArgument("task.name", expected, j.contains("name") ? j["name"].dump() : "missing");
  const std::string name = j["name"].get<std::string>();
  Params p(j);
  std::unique_ptr<Task> task;
  if (name == "sine") task = std::make_unique<SineTask>(p);
  else if (name == "perceptual_decision") task = std::make_unique<PerceptualDecisionTask>(p);
  else if (name == "delayed_match") task = std::make_unique<DelayedMatchTask>(p);
  else if (name == "flip_flop") task = std::make_unique<FlipFlopTask>(p);
  else throw InvalidArgument("task.name", expected, "'" + name + "'");
  p.finish();
  return task;
}

bool task_has_choices(const std::string& task_json) {
  const json j = parse_task_json(task_json);
  if (j.contains("data")) return j.value("decision_accuracy", false);
  return make_task(task_json)->has_choices();
}

std::string resolve_data_paths(const std::string& task_json, const std::string& base_dir) {
  json j = parse_task_json(task_json);
  for (const char* key : {"data", "val_data"})
    if (j.contains(key) && j[key].is_string()) {
      std::filesystem::path p = j[key].get<std::string>();
      if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
      j[key] = std::filesystem::absolute(p).lexically_normal().string();
    }
  return j.dump();
}

}  // namespace ctrnn
