// Data-file trials (dataset.hpp): reading and checking the file, and the task that shuffles its
// trials into batches.
#include "ctrnn/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>

#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "kernels/philox.hpp"
#include "number_text.hpp"

namespace ctrnn {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& expected, const std::string& got) {
  throw InvalidArgument("data file '" + path + "'", expected, got);
}

void fnv1a(uint64_t& h, const void* bytes, size_t n) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
}

void hash_tensor(uint64_t& h, const Tensor<float>& t) {
  const int64_t rank = t.rank();
  fnv1a(h, &rank, sizeof rank);
  fnv1a(h, t.shape.data(), t.shape.size() * sizeof(int64_t));
  fnv1a(h, t.data.data(), t.data.size() * sizeof(float));
}

Tensor<float> read_tensor(const SafetensorsFile& f, const std::string& name, const std::string& path) {
  if (f.shape(name).size() != 3)
    refuse(path, "tensor '" + name + "' of rank 3 (time-major: T, N, features)",
           "shape " + shape_to_string(f.shape(name)));
  Tensor<float> t = f.get<float>(name);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data[i]))
      refuse(path, "finite values in '" + name + "'", detail::number_text(t.data[i]) + " at flat index " + std::to_string(i));
  return t;
}

// A trial whose mask is zero everywhere would add nothing to the loss, and a batch drawing only
// such trials has no loss at all (Trainer::step refuses it): refused when the file is read,
// naming the first such trial, rather than at whichever step happens to draw it.
void check_every_trial_counts(const Tensor<float>& mask, const std::string& path) {
  const int64_t T = mask.shape[0], N = mask.shape[1], O = mask.shape[2];
  std::vector<bool> counts(size_t(N), false);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O && !counts[size_t(n)]; ++o) counts[size_t(n)] = mask.data[(t * N + n) * O + o] > 0;
  for (int64_t n = 0; n < N; ++n)
    if (!counts[size_t(n)])
      refuse(path, "a mask with a positive weight in every trial (a trial that is all zero adds nothing to the loss)",
             "trial " + std::to_string(n) + " (of " + std::to_string(N) + ") all zero");
}

// Rows (trials) `index` of a (T, N, F) tensor.
Tensor<float> gather_trials(const Tensor<float>& t, const std::vector<int64_t>& index) {
  if (t.numel() == 0) return {};
  const int64_t T = t.shape[0], N = t.shape[1], F = t.shape[2], B = int64_t(index.size());
  Tensor<float> out({T, B, F});
  for (int64_t s = 0; s < T; ++s)
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(&out.data[(s * B + b) * F], &t.data[(s * N + index[b]) * F], size_t(F) * sizeof(float));
  return out;
}

}  // namespace

DataSet DataSet::read(const std::string& path) {
  SafetensorsFile f;
  try {
    f = SafetensorsFile::read(path);
    DataSet d;
    d.path = path;
    for (const char* name : {"u", "target"})
      if (!f.contains(name)) refuse(path, "a tensor '" + std::string(name) + "'", "none");
    for (const auto& name : f.names())
      if (name != "u" && name != "target" && name != "mask")
        refuse(path, "only the tensors 'u', 'target' and 'mask'", "a tensor '" + name + "'");
    d.u = read_tensor(f, "u", path);
    d.target = read_tensor(f, "target", path);
    if (d.u.shape[0] < 1 || d.u.shape[1] < 1 || d.u.shape[2] < 1 || d.target.shape[2] < 1)
      refuse(path, "u (T, N, I) with T, N, I >= 1", "u of shape " + shape_to_string(d.u.shape));
    if (d.target.shape[0] != d.u.shape[0] || d.target.shape[1] != d.u.shape[1])
      refuse(path, "target (T, N, O) with u's T and N (" + std::to_string(d.u.shape[0]) + ", " +
                       std::to_string(d.u.shape[1]) + ")",
             "target of shape " + shape_to_string(d.target.shape));
    if (f.contains("mask")) {
      d.mask = read_tensor(f, "mask", path);
      if (d.mask.shape != d.target.shape)
        refuse(path, "mask of target's shape " + shape_to_string(d.target.shape),
               "shape " + shape_to_string(d.mask.shape));
      for (int64_t i = 0; i < d.mask.numel(); ++i)
        if (d.mask.data[i] < 0) refuse(path, "mask weights >= 0", detail::number_text(d.mask.data[i]) + " at flat index " + std::to_string(i));
      check_every_trial_counts(d.mask, path);
    }
    d.fingerprint = 14695981039346656037ull;
    for (const Tensor<float>* t : {&d.u, &d.target, &d.mask}) hash_tensor(d.fingerprint, *t);
    return d;
  } catch (const FileError& e) {
    refuse(path, "a readable safetensors file with 'u' (T, N, I) and 'target' (T, N, O)", e.what());
  }
}

void DataSet::write(const std::string& path) const {
  SafetensorsFile f;
  f.put("u", u);
  f.put("target", target);
  if (mask.numel()) f.put("mask", mask);
  f.write(path);
}

TaskBatch DataSet::gather(const std::vector<int64_t>& index) const {
  return {gather_trials(u, index), gather_trials(target, index), gather_trials(mask, index), {}};
}

TaskBatch DataSet::all() const {
  std::vector<int64_t> index(static_cast<size_t>(trials()));
  std::iota(index.begin(), index.end(), int64_t(0));
  return gather(index);
}

std::vector<int> decision_labels(const TaskBatch& b) {
  const int64_t T = b.target.shape[0], B = b.target.shape[1], O = b.target.shape[2];
  std::vector<int> label(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) {
    std::vector<double> mean(static_cast<size_t>(O), 0.0);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < O; ++o) {
        const int64_t k = (t * B + i) * O + o;
        mean[o] += (b.mask.numel() ? b.mask.data[k] : 1.0) * b.target.data[k];
      }
    label[i] = int(std::max_element(mean.begin(), mean.end()) - mean.begin());
  }
  return label;
}

namespace {

class DataSetTask final : public Task {
 public:
  DataSetTask(DataSet train, std::optional<DataSet> validation, bool decision_accuracy)
      : train_(std::move(train)), validation_(std::move(validation)), decision_accuracy_(decision_accuracy) {}
  std::string name() const override { return "data '" + train_.path + "'"; }
  int64_t input_dim() const override { return train_.input_dim(); }
  int64_t output_dim() const override { return train_.output_dim(); }
  int64_t steps() const override { return train_.steps(); }
  bool has_choices() const override { return decision_accuracy_; }
  const DataSet* data_set() const override { return &train_; }
  const DataSet* validation_set() const override { return validation_ ? &*validation_ : nullptr; }

  TaskBatch batch(int64_t batch_size, uint64_t seed, uint64_t index) const override {
    const uint64_t N = uint64_t(train_.trials());
    std::vector<int64_t> trials(static_cast<size_t>(batch_size));
    for (int64_t b = 0; b < batch_size; ++b) {
      const uint64_t position = index * uint64_t(batch_size) + uint64_t(b);
      trials[b] = permutation(seed, position / N)[position % N];
    }
    TaskBatch out = train_.gather(trials);
    if (decision_accuracy_) out.label = decision_labels(out);
    return out;
  }

 private:
  // Epoch e's order of the trials: Fisher-Yates driven by the task-data stream of (seed, e).
  // The last epoch's is cached; batches ask for it again and again.
  const std::vector<int64_t>& permutation(uint64_t seed, uint64_t epoch) const {
    if (cached_epoch_ == epoch && cached_seed_ == seed && !cached_.empty()) return cached_;
    const RandomStream rng(seed, RandomPurpose::TaskData, 1, uint32_t(epoch), uint32_t(epoch >> 32));
    cached_.resize(size_t(train_.trials()));
    std::iota(cached_.begin(), cached_.end(), int64_t(0));
    for (size_t i = cached_.size(); i > 1; --i) {
      const uint32_t bits = rng.block(uint32_t(i / 4)).x[i % 4];
      const size_t j = size_t((uint64_t(bits) * uint64_t(i)) >> 32);  // uniform in [0, i) (Lemire)
      std::swap(cached_[i - 1], cached_[j]);
    }
    cached_epoch_ = epoch, cached_seed_ = seed;
    return cached_;
  }

  DataSet train_;
  std::optional<DataSet> validation_;
  bool decision_accuracy_;
  mutable std::vector<int64_t> cached_;
  mutable uint64_t cached_epoch_ = 0, cached_seed_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_data_set_task(const std::string& path, const std::string& validation_path,
                                         bool decision_accuracy) {
  DataSet train = DataSet::read(path);
  std::optional<DataSet> validation;
  if (!validation_path.empty()) {
    validation = DataSet::read(validation_path);
    if (validation->input_dim() != train.input_dim() || validation->output_dim() != train.output_dim())
      throw InvalidArgument("data file '" + validation_path + "'",
                            "validation trials with the training data's I = " + std::to_string(train.input_dim()) +
                                " and O = " + std::to_string(train.output_dim()),
                            "I = " + std::to_string(validation->input_dim()) +
                                ", O = " + std::to_string(validation->output_dim()));
  }
  return std::make_unique<DataSetTask>(std::move(train), std::move(validation), decision_accuracy);
}

}  // namespace ctrnn
