// Checkpoints: bit-for-bit resume on the CPU backend, keep state, refusal of truncated, foreign
// and mismatched files, and a failed save that leaves the last good checkpoint intact.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/tasks.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// Everything that carries state across steps: noise, Dale + sparse masks with growth, learned
// h0 and biases, Adam with clipping, an ensemble.
Config rich_config() {
  Config c;
  c.dims = {3, 16, 2};
  c.ensemble_size = 2;
  c.seed = 42;
  c.preact_noise = 0.1;
  c.postact_noise = 0.05;
  c.biases = all_layers(InitSpec::uniform());
  c.init_state = InitState::Learn;
  Array ei({16, 16}), sp({16, 16}), grow({16, 16}, 0.02);
  for (int64_t i = 0; i < 256; ++i) ei.data[i] = i / 16 < 13 ? 1 : -1, sp.data[i] = (i * 7) % 5 != 0;
  c.ei_masks = {std::nullopt, ei, std::nullopt};
  c.sparsity_masks = {std::nullopt, sp, std::nullopt};
  c.synapse_growth_masks = {std::nullopt, grow, std::nullopt};
  return c;
}

OptimizerConfig adam() {
  OptimizerConfig o;
  o.lr = 0.01;
  o.clip_grad_norm = 0.5;
  return o;
}

std::unique_ptr<Task> task() { return make_task(R"({"name": "perceptual_decision", "stimulus_steps": 8, "decision_steps": 4, "fixation_steps": 3})"); }

std::vector<double> train(Network& net, Trainer& trainer, int64_t from, int64_t to) {
  const auto t = task();
  std::vector<double> losses;
  for (int64_t s = from; s < to; ++s) {
    const TaskBatch b = t->batch(4, 9, uint64_t(s));
    for (double x : trainer.step(b.u, b.target, &b.mask).total) losses.push_back(x);
  }
  return losses;
}

TEST(Checkpoint, ResumeIsBitForBit) {
  TempDir dir;
  LossWeights w;
  w[kLossFr] = 0.01;
  Network whole(rich_config(), Device::Cpu);
  Trainer tw(whole, adam(), w);
  const std::vector<double> expected = train(whole, tw, 0, 8);

  std::vector<double> got;
  {
    Network first(rich_config(), Device::Cpu);
    Trainer tf(first, adam(), w);
    got = train(first, tf, 0, 4);
    save_checkpoint(dir.file("ck.safetensors"), first, &tf);
  }
  Checkpoint ck = load_checkpoint(dir.file("ck.safetensors"), Device::Cpu);
  ASSERT_TRUE(ck.trainer_state);
  EXPECT_EQ(ck.trainer_state->step, 4);
  Trainer tr(ck.network, ck.optimizer, ck.loss_weights);
  tr.restore(*ck.trainer_state);
  for (double x : train(ck.network, tr, 4, 8)) got.push_back(x);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "loss " << i;  // bit for bit
  EXPECT_EQ(ck.network.params().w_hid, whole.params().w_hid);
  EXPECT_EQ(ck.network.constraints()[1].sparsity, whole.constraints()[1].sparsity) << "grown synapses";
}

// Which networks have diverged is trainer state: a checkpoint keeps the flags, and the resumed
// trainer keeps the frozen network frozen.
TEST(Checkpoint, KeepsWhichNetworksDiverged) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  Trainer t(net, adam());
  train(net, t, 0, 2);
  TrainerState<float> s = t.state();
  EXPECT_EQ(s.diverged, (std::vector<bool>{false, false}));
  s.diverged = {true, false};
  t.restore(s);
  save_checkpoint(dir.file("ck.safetensors"), net, &t);
  Checkpoint ck = load_checkpoint(dir.file("ck.safetensors"), Device::Cpu);
  EXPECT_EQ(ck.trainer_state->diverged, (std::vector<bool>{true, false}));
  Trainer resumed(ck.network, ck.optimizer, ck.loss_weights);
  resumed.restore(*ck.trainer_state);
  const std::vector<float> before = ck.network.params().w_out;
  train(ck.network, resumed, 2, 3);
  const std::vector<float>& after = ck.network.params().w_out;
  const size_t n = after.size() / 2;
  EXPECT_TRUE(std::equal(after.begin(), after.begin() + n, before.begin())) << "network 0 stays frozen";
  EXPECT_FALSE(std::equal(after.begin() + n, after.end(), before.begin() + n)) << "network 1 trains";
}

// Per-network optimizer values and lambdas are stored and read back as they were.
TEST(Checkpoint, KeepsPerNetworkValues) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  OptimizerConfig o = adam();
  o.lr = PerNetwork::each({0.01, 0.001});
  o.clip_grad_norm = PerNetwork::each({0, 0.5});
  LossWeights w;
  w[kLossFr] = PerNetwork::each({0.125, 0});
  Trainer t(net, o, w);
  train(net, t, 0, 1);
  save_checkpoint(dir.file("ck.safetensors"), net, &t);
  const Checkpoint ck = load_checkpoint(dir.file("ck.safetensors"), Device::Cpu);
  EXPECT_EQ(ck.optimizer.lr, o.lr);
  EXPECT_EQ(ck.optimizer.clip_grad_norm, o.clip_grad_norm);
  EXPECT_EQ(ck.optimizer.weight_decay, 0.0);
  EXPECT_EQ(ck.loss_weights[kLossFr], w[kLossFr]);
  EXPECT_EQ(ck.loss_weights[kMse], 1.0);
}

TEST(Checkpoint, KeepsTheCarriedState) {
  TempDir dir;
  Config c = rich_config();
  c.init_state = InitState::Keep;
  c.preact_noise = c.postact_noise = 0;
  Network a(c, Device::Cpu);
  const Tensor<float> u({5, 3, 3}, 0.7f);
  a.forward(u);
  save_checkpoint(dir.file("keep.safetensors"), a);
  Checkpoint ck = load_checkpoint(dir.file("keep.safetensors"), Device::Cpu);
  EXPECT_FALSE(ck.trainer_state);
  EXPECT_EQ(ck.network.forward(u).y.data, a.forward(u).y.data);
}

TEST(Checkpoint, RefusesTruncatedForeignAndMismatchedFiles) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  Trainer t(net, adam());
  const std::string good = dir.file("good.safetensors");
  save_checkpoint(good, net, &t);
  auto refused = [](const std::string& path, const std::string& why) {
    try {
      load_checkpoint(path, Device::Cpu);
      ADD_FAILURE() << "accepted " << why;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.parameter(), "checkpoint") << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  // Truncated.
  fs::copy_file(good, dir.file("cut.safetensors"));
  fs::resize_file(dir.file("cut.safetensors"), fs::file_size(good) / 2);
  refused(dir.file("cut.safetensors"), "a truncated file");
  // Foreign: a valid safetensors file that is not a checkpoint.
  SafetensorsFile foreign;
  foreign.put("weight", Tensor<float>({2, 2}, 1.0f));
  foreign.write(dir.file("foreign.safetensors"));
  refused(dir.file("foreign.safetensors"), "a foreign file");
  refused(dir.file("absent.safetensors"), "a missing file");
  // Newer version, wrong shape, wrong dtype.
  SafetensorsFile f = SafetensorsFile::read(good);
  f.metadata["format_version"] = "99";
  f.write(dir.file("v99.safetensors"));
  refused(dir.file("v99.safetensors"), "a newer version");
  f = SafetensorsFile::read(good);
  f.put("params.w_hid", Tensor<float>({2, 16, 15}, 0.0f));
  f.write(dir.file("shape.safetensors"));
  refused(dir.file("shape.safetensors"), "a wrong shape");
  f = SafetensorsFile::read(good);
  f.put("params.w_out", Tensor<double>({2, 16, 2}, 0.0));
  f.write(dir.file("dtype.safetensors"));
  refused(dir.file("dtype.safetensors"), "a wrong dtype");
  // Adam's second moment below zero: sqrt(v) would be NaN at the next step.
  t.step(Tensor<float>({4, 3, 3}, 0.5f), Tensor<float>({4, 3, 2}, 0.25f));
  save_checkpoint(good, net, &t);
  f = SafetensorsFile::read(good);
  Tensor<float> v = f.get<float>("optimizer.v.w_hid");
  v.data[7] = -1e-3f;
  f.put("optimizer.v.w_hid", v);
  f.write(dir.file("negative_v.safetensors"));
  refused(dir.file("negative_v.safetensors"), "a negative second moment");
  try {
    load_checkpoint(dir.file("negative_v.safetensors"), Device::Cpu);
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer.v.w_hid"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("flat index 7"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, FailedSaveKeepsTheLastGoodOne) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  Trainer t(net, adam());
  const std::string path = dir.file("ck.safetensors");
  save_checkpoint(path, net, &t);
  const auto w_before = load_checkpoint(path, Device::Cpu).network.params().w_hid;
  train(net, t, 0, 2);
  fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);  // no new files
  if (::geteuid() != 0) {  // root ignores permissions, so the failure cannot be provoked this way
    EXPECT_THROW(save_checkpoint(path, net, &t), FileError);
  }
  fs::permissions(dir.path, fs::perms::owner_all);
  EXPECT_THROW(save_checkpoint(dir.file("missing/dir/ck.safetensors"), net, &t), FileError);
  EXPECT_EQ(load_checkpoint(path, Device::Cpu).network.params().w_hid, w_before);
}

// Loads `path` expecting InvalidArgument("checkpoint") whose message names `field` and `value`.
void expect_metadata_refused(const std::string& path, const std::string& field, const std::string& value) {
  try {
    load_checkpoint(path, Device::Cpu);
    ADD_FAILURE() << "accepted " << field << " = '" << value << "'";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.parameter(), "checkpoint") << e.what();
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(value), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, MetadataIsParsedStrictly) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  Trainer t(net, adam());
  const std::string good = dir.file("good.safetensors");
  save_checkpoint(good, net, &t);
  const std::vector<std::pair<std::string, std::string>> bad{
      {"mode", "banana"},   {"step", "-1"},         {"step", "abc"},           {"step", "5x"},
      {"step", " 5"},       {"forward_calls", "1e9"}, {"format_version", "+1"}, {"forward_calls", "99999999999999999999999"},
      {"diverged", "[1, 1]"}, {"diverged", "[0]"},       {"diverged", "[0, 2]"},   {"diverged", "[false, true]"},
      {"task", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}};
  for (const auto& [field, value] : bad) {
    SafetensorsFile f = SafetensorsFile::read(good);
    f.metadata[field] = value;
    f.write(dir.file("bad.safetensors"));
    expect_metadata_refused(dir.file("bad.safetensors"), field, field == "task" ? "task" : value);
  }
  SafetensorsFile f = SafetensorsFile::read(good);
  f.metadata["optimizer"] = R"({"optimizer": "adam", "lr": 1e400})";
  f.write(dir.file("bad.safetensors"));
  expect_metadata_refused(dir.file("bad.safetensors"), "lr", "1e400");
  f.metadata["optimizer"] = R"({"optimizer": "adam", "lr": "0.1", "betas": [0.9, 0.999], "eps": 1e-8, "momentum": 0,)"
                            R"( "weight_decay": 0, "clip_grad_norm": 0})";
  f.write(dir.file("bad.safetensors"));
  expect_metadata_refused(dir.file("bad.safetensors"), "lr", "0.1");
  f.metadata["optimizer"] = R"({"optimizer": "adam", "lr": {"per_network": [0.1, 0.2, 0.3]}, "betas": [0.9, 0.999],)"
                            R"( "eps": 1e-8, "momentum": 0, "weight_decay": 0, "clip_grad_norm": 0})";
  f.write(dir.file("bad.safetensors"));
  expect_metadata_refused(dir.file("bad.safetensors"), "lr", "3 values");
}

TEST(Checkpoint, MetadataIntegersOfTheCallerAreParsedStrictly) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  save_checkpoint(dir.file("ck.safetensors"), net, nullptr, {{"eval_batch_size", "-1"}, {"data_seed", "abc"}, {"n", "12"}});
  const Checkpoint ck = load_checkpoint(dir.file("ck.safetensors"), Device::Cpu);
  for (const char* key : {"eval_batch_size", "data_seed"}) {
    try {
      ck.metadata_unsigned(key, 1, 1);
      ADD_FAILURE() << "accepted " << key << " = '" << ck.metadata.at(key) << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(ck.metadata_unsigned("n", 1, 1), 12u);
  EXPECT_EQ(ck.metadata_unsigned("absent", 256, 1), 256u);
  EXPECT_THROW(ck.metadata_unsigned("n", 1, 13), InvalidArgument);
}

// An update that would overflow is not applied (the network diverges; with every network
// diverged, training stops), so training leaves the weights saveable. State holding Inf anyway
// (here optimizer moments handed to restore) is never saved, and the last good file stays.
TEST(Checkpoint, NonFiniteStateIsNeverSaved) {
  TempDir dir;
  Config c = rich_config();
  c.preact_noise = c.postact_noise = 0;
  Network net(c, Device::Cpu);
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::SGD;
  sgd.lr = 1e300;  // one step would send the float weights to Inf while the step's own loss is finite
  Trainer t(net, sgd);
  const std::string path = dir.file("ck.safetensors");
  save_checkpoint(path, net, &t);
  EXPECT_THROW(train(net, t, 0, 1), NonFiniteLoss);
  for (float w : net.params().w_out) ASSERT_TRUE(std::isfinite(w));
  save_checkpoint(path, net, &t);
  TrainerState<float> s = t.state();
  s.m.w_out[0] = std::numeric_limits<float>::infinity();
  t.restore(s);
  EXPECT_THROW(save_checkpoint(path, net, &t), StateError);
  const Checkpoint ck = load_checkpoint(path, Device::Cpu);  // the last good one is intact
  EXPECT_EQ(ck.trainer_state->step, 0);
  for (const auto& entry : fs::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

// Another device or BLAS is reported; another thread count is not: it changes no bit of a run.
TEST(Checkpoint, ReportsAnotherDeviceButNotAnotherThreadCount) {
  TempDir dir;
  Network net(rich_config(), Device::Cpu);
  Trainer t(net, adam());
  save_checkpoint(dir.file("ck.safetensors"), net, &t);
  EXPECT_TRUE(load_checkpoint(dir.file("ck.safetensors"), Device::Cpu).warnings.empty());
  SafetensorsFile f = SafetensorsFile::read(dir.file("ck.safetensors"));
  EXPECT_EQ(f.metadata.at("computed_on"), net.device_description());
  std::string threads64 = net.device_description();
  const size_t comma = threads64.rfind(", ");
  if (comma != std::string::npos && threads64.find(" threads)", comma) != std::string::npos) {  // OpenBLAS
    threads64 = threads64.substr(0, comma) + ", 64 threads)";
    f.metadata["computed_on"] = threads64;
    f.write(dir.file("threads.safetensors"));
    EXPECT_TRUE(load_checkpoint(dir.file("threads.safetensors"), Device::Cpu).warnings.empty()) << threads64;
  }
  f.metadata["computed_on"] = "cpu (OpenBLAS 0.3.21, Prescott kernels, 64 threads)";
  f.write(dir.file("other.safetensors"));
  const Checkpoint ck = load_checkpoint(dir.file("other.safetensors"), Device::Cpu);
  ASSERT_EQ(ck.warnings.size(), 1u);
  EXPECT_NE(ck.warnings[0].find("Prescott"), std::string::npos) << ck.warnings[0];
  EXPECT_NE(ck.warnings[0].find("bit for bit"), std::string::npos) << ck.warnings[0];
}

}  // namespace
}  // namespace ctrnn
