// Training on one's own data: a data file the test writes (a 3-way decision, which no built-in
// task generates) trains to a stated accuracy; the validation columns of metrics.csv equal what
// `ctrnn eval --data` reports for the final checkpoint; batches are drawn reproducibly (every
// trial once per epoch) and a run resumed mid-epoch equals an uninterrupted one; bad data files
// are refused naming the file and the tensor.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>

#include "cli_util.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::expect_one_line_error;
using test::TempDir;

constexpr int64_t kFixation = 3, kStimulus = 10, kDecision = 5, kSteps = kFixation + kStimulus + kDecision;

// A 3-way perceptual decision: a fixation cue until the decision period; three noisy evidence
// channels during the stimulus, the chosen one stronger; the target is the choice, one-hot,
// counted only during the decision period.
DataSet three_way_decision(int64_t trials, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::uniform_int_distribution<int> pick(0, 2);
  std::uniform_real_distribution<float> coherence(0.2f, 0.6f);
  DataSet d;
  d.u = Tensor<float>({kSteps, trials, 4});
  d.target = Tensor<float>({kSteps, trials, 3});
  d.mask = Tensor<float>({kSteps, trials, 3});
  for (int64_t n = 0; n < trials; ++n) {
    const int choice = pick(gen);
    const float coh = coherence(gen);
    for (int64_t t = 0; t < kSteps; ++t) {
      float* u = &d.u.data[(t * trials + n) * 4];
      u[0] = t < kFixation + kStimulus ? 1.0f : 0.0f;
      if (t >= kFixation && t < kFixation + kStimulus)
        for (int k = 0; k < 3; ++k) u[1 + k] = 0.5f + (k == choice ? coh : -coh / 2) + noise(gen);
      if (t >= kFixation + kStimulus)
        for (int k = 0; k < 3; ++k) {
          d.target.data[(t * trials + n) * 3 + k] = k == choice ? 1.0f : 0.0f;
          d.mask.data[(t * trials + n) * 3 + k] = 1.0f;
        }
    }
  }
  return d;
}

const char* kDataConfig = R"({
  "dims": [4, 32, 3], "activation": "tanh", "tau": 100, "dt": 20, "biases": "zero", "seed": 3,
  "task": {"data": "train.safetensors", "val_data": "val.safetensors", "decision_accuracy": true},
  "training": {"steps": 300, "batch_size": 32, "lr": 0.01, "log_every": 50, "checkpoint_every": 0}
})";

// Trains from the data file to >= 90% decision accuracy on held-out trials (chance: 33%); the
// last metrics row's validation loss and accuracy are exactly what `eval --data` computes.
TEST(CliData, TrainsAThreeWayDecisionFromADataFile) {
  TempDir d;
  three_way_decision(256, 1).write(d.file("train.safetensors"));
  three_way_decision(128, 2).write(d.file("val.safetensors"));
  const std::string one = "OPENBLAS_NUM_THREADS=1";
  const auto r = test::run_cli("train " + d.write("c.json", kDataConfig) + " --device cpu --out " + d.file("o"), d.path, one);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto val_loss = test::metrics_column(d.path / "o" / "metrics.csv", "val_loss");
  const auto val_acc = test::metrics_column(d.path / "o" / "metrics.csv", "val_accuracy");
  ASSERT_EQ(val_loss.size(), 300u);
  EXPECT_NE(val_loss[49], "");  // --log-every 50: steps 1, 50, 100, ... and the last
  EXPECT_EQ(val_loss[50], "");
  EXPECT_GE(std::stod(val_acc.back()), 0.9) << r.out;
  EXPECT_LE(std::stod(val_loss.back()), 0.1) << r.out;

  const auto e = test::run_cli("eval " + d.file("o/checkpoint.safetensors") + " --device cpu --data " +
                                   d.file("val.safetensors"),
                               d.path, one);
  ASSERT_EQ(e.code, 0) << e.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(e.out, m, std::regex("network 0: loss (\\S+) acc (\\S+)"))) << e.out;
  EXPECT_EQ(m[1].str(), val_loss.back());
  EXPECT_EQ(m[2].str(), val_acc.back());
}

TEST(CliData, BatchesVisitEveryTrialOncePerEpochReproducibly) {
  TempDir d;
  three_way_decision(10, 5).write(d.file("t.safetensors"));
  const auto task = make_data_set_task(d.file("t.safetensors"), "", true);
  const DataSet all = DataSet::read(d.file("t.safetensors"));
  // Trials by their first stimulus value (unique with noise): batches 0 and 1 (5 each) are one epoch.
  std::multiset<float> seen;
  for (uint64_t k = 0; k < 2; ++k) {
    const TaskBatch b = task->batch(5, 7, k);
    EXPECT_EQ(b.u.data, task->batch(5, 7, k).u.data);  // a pure function of (seed, k)
    EXPECT_EQ(b.label.size(), 5u);
    for (int64_t n = 0; n < 5; ++n) seen.insert(b.u.data[(kFixation * 5 + n) * 4 + 1]);
  }
  std::multiset<float> expected;
  for (int64_t n = 0; n < 10; ++n) expected.insert(all.u.data[(kFixation * 10 + n) * 4 + 1]);
  EXPECT_EQ(seen, expected);
  EXPECT_NE(task->batch(5, 7, 0).u.data, task->batch(5, 7, 2).u.data);  // the next epoch is shuffled anew
  EXPECT_NE(task->batch(5, 7, 0).u.data, task->batch(5, 8, 0).u.data);  // the seed matters
}

// 10 trials in batches of 4: step 3 ends in the middle of the second epoch.
TEST(CliData, ResumeMidEpochEqualsAnUninterruptedRun) {
  TempDir d;
  three_way_decision(10, 1).write(d.file("train.safetensors"));
  three_way_decision(6, 2).write(d.file("val.safetensors"));
  std::string cfg = kDataConfig;
  cfg.replace(cfg.find("\"steps\": 300, \"batch_size\": 32"), 30, "\"steps\": 6, \"batch_size\": 4");
  const auto r = test::train_whole_and_resumed(d.path, d.write("c.json", cfg), 3, 6);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(test::metrics_of_training(d.path / "part" / "metrics.csv"),
            test::metrics_of_training(d.path / "whole" / "metrics.csv"));
  const auto a = load_checkpoint(d.file("whole/checkpoint.safetensors"), Device::Cpu);
  const auto b = load_checkpoint(d.file("part/checkpoint.safetensors"), Device::Cpu);
  EXPECT_EQ(a.network.params().w_hid, b.network.params().w_hid);
  // Changed data: refused, naming it.
  three_way_decision(10, 9).write(d.file("train.safetensors"));
  expect_one_line_error(test::run_cli("train --resume " + d.file("part/checkpoint.safetensors") + " --steps 9 --out " +
                                          d.file("part"),
                                      d.path),
                        2, "task.data");
}

TEST(CliData, BadDataFilesAreRefusedNamingFileAndTensor) {
  TempDir d;
  const std::string cfg = d.write("c.json", test::kSmallConfig);  // dims [3, 12, 2]
  auto write = [&](const std::string& name, const Shape& u, const Shape& target, bool with_mask = false) {
    SafetensorsFile f;
    f.put("u", Tensor<float>(u, 0.5f));
    f.put("target", Tensor<float>(target, 0.0f));
    if (with_mask) f.put("mask", Tensor<float>({target[0], target[1], 1}, 1.0f));
    f.write(d.file(name));
    return d.file(name);
  };
  auto train = [&](const std::string& data) { return test::run_cli("train " + cfg + " --out " + d.file("o") + " --data " + data, d.path); };
  expect_one_line_error(train(d.file("missing.safetensors")), 2, "missing.safetensors");
  expect_one_line_error(train(write("rank.safetensors", {5, 3}, {5, 3, 2})), 2, "'u'");
  expect_one_line_error(train(write("trials.safetensors", {5, 4, 3}, {5, 3, 2})), 2, "target");
  expect_one_line_error(train(write("mask.safetensors", {5, 4, 3}, {5, 4, 2}, true)), 2, "mask");
  expect_one_line_error(train(write("dims.safetensors", {5, 4, 7}, {5, 4, 2})), 2, "dims");
  SafetensorsFile no_target;
  no_target.put("u", Tensor<float>({5, 4, 3}, 0.5f));
  no_target.write(d.file("no_target.safetensors"));
  expect_one_line_error(train(d.file("no_target.safetensors")), 2, "'target'");
  expect_one_line_error(test::run_cli("train " + cfg + " --out " + d.file("o") + " --val-data " +
                                          write("v.safetensors", {5, 4, 3}, {5, 4, 2}),
                                      d.path),
                        2, "--val-data");
  EXPECT_FALSE(fs::exists(d.path / "o" / "checkpoint.safetensors"));
}

// A trial whose mask is all zero would stop training at whichever step draws it (a batch with
// no loss) and stop every resume at the same step: the file is refused when read, naming the
// file and the trial, before any step (docs/contract.md, "Data files").
TEST(CliData, ATrialWithAnAllZeroMaskIsRefusedWhenTheFileIsRead) {
  TempDir d;
  DataSet data = three_way_decision(8, 1);
  for (int64_t t = 0; t < kSteps; ++t)
    for (int64_t o = 0; o < 3; ++o) data.mask.data[(t * 8 + 5) * 3 + o] = 0.0f;
  data.write(d.file("zero.safetensors"));
  std::string cfg = kDataConfig;
  cfg.replace(cfg.find("\"val_data\": \"val.safetensors\", "), 31, "");
  cfg.replace(cfg.find("train.safetensors"), 17, "zero.safetensors");
  const auto r = test::run_cli("train " + d.write("c.json", cfg) + " --out " + d.file("o"), d.path);
  expect_one_line_error(r, 2, "trial 5 (of 8) all zero");
  EXPECT_NE(r.err.find("zero.safetensors"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.path / "o" / "metrics.csv"));
}

}  // namespace
}  // namespace ctrnn
