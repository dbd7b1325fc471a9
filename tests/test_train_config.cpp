// Training config files: the sections' keys, and refusal of hostile files (endless devices,
// oversized or deeply nested files, out-of-range numbers, repeated keys) with errors naming the key.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "ctrnn/error.hpp"
#include "ctrnn/train_config.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::expect_refused;
using test::TempDir;

const char* kSine = R"("task": {"name": "sine"})";

TEST(TrainConfig, SectionsAreRead) {
  const TrainConfig tc = parse_train_config(std::string("{") + kSine + R"(, "tau": 50,
      "training": {"steps": 7, "optimizer": "sgd", "lr": 0.5, "data_seed": 18446744073709551615},
      "loss": {"lambda_fr": 0.25}})");
  EXPECT_EQ(tc.network.tau, 50);
  EXPECT_EQ(tc.training.steps, 7);
  EXPECT_EQ(tc.training.optimizer.kind, OptimizerConfig::Kind::SGD);
  EXPECT_EQ(tc.training.optimizer.lr, 0.5);
  EXPECT_EQ(tc.training.data_seed, UINT64_MAX);
  EXPECT_EQ(tc.training.loss[kLossFr], 0.25);
}

// Per-network values: {"per_network": [...]} with one number per network; a bare list (which
// elsewhere means an array over neurons) is refused, as are a wrong length and a bad value, each
// naming the key (and the network).
TEST(TrainConfig, PerNetworkValues) {
  const TrainConfig tc = parse_train_config(std::string("{") + kSine + R"(, "ensemble_size": 3,
      "training": {"lr": {"per_network": [0.1, 0.2, 0.3]}, "momentum": 0.5, "weight_decay": {"per_network": [0, 1e-4, 0]},
                   "clip_grad_norm": {"per_network": [1, 2, 0]}},
      "loss": {"lambda_fr": {"per_network": [0, 0.1, 0.25]}}})");
  EXPECT_EQ(tc.training.optimizer.lr, PerNetwork::each({0.1, 0.2, 0.3}));
  EXPECT_EQ(tc.training.optimizer.momentum, 0.5);
  EXPECT_EQ(tc.training.optimizer.weight_decay[1], 1e-4);
  EXPECT_EQ(tc.training.optimizer.clip_grad_norm[2], 0);
  EXPECT_EQ(tc.training.loss[kLossFr], PerNetwork::each({0, 0.1, 0.25}));
  const std::string e3 = std::string("{") + kSine + R"(, "ensemble_size": 3, )";
  expect_refused([&] { parse_train_config(e3 + R"("training": {"lr": {"per_network": [0.1, 0.2]}}})"); }, "training.lr");
  expect_refused([&] { parse_train_config(e3 + R"("training": {"lr": [0.1, 0.2, 0.3]}})"); }, "training.lr");
  expect_refused([&] { parse_train_config(e3 + R"("training": {"lr": {"per_network": []}}})"); }, "training.lr");
  expect_refused([&] { parse_train_config(e3 + R"("training": {"lr": {"per_network": [1], "x": 1}}})"); }, "training.lr");
  expect_refused([&] { parse_train_config(e3 + R"("training": {"momentum": {"per_network": [0, -1, 0]}}})"); },
                 "training.momentum");
  expect_refused([&] { parse_train_config(e3 + R"("loss": {"lambda_in": {"per_network": [0, 0, "a"]}}})"); },
                 "loss.lambda_in");
  try {
    parse_train_config(e3 + R"("training": {"lr": {"per_network": [0.1, -0.2, 0.3]}}})");
    ADD_FAILURE() << "a negative lr for network 1 was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.parameter(), "training.lr");
    EXPECT_NE(std::string(e.what()).find("-0.2 for network 1"), std::string::npos) << e.what();
  }
  try {
    parse_train_config(e3 + R"("loss": {"lambda_fr": {"per_network": [0, 0.1]}}})");
    ADD_FAILURE() << "two lambdas for three networks were accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.parameter(), "loss.lambda_fr");
    EXPECT_NE(std::string(e.what()).find("3 values (one per network)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("got 2 values"), std::string::npos) << e.what();
  }
}

TEST(TrainConfig, DeepNestingIsRefused) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const char* key : {"task", "training", "loss", "unknown", "tau"})
    expect_refused([&] { parse_train_config(std::string("{\"") + key + "\": " + deep + "}"); }, "config");
}

TEST(TrainConfig, NumberBeyondDoubleNamesTheKey) {
  expect_refused([] { parse_train_config(R"({"tau": 1e400})"); }, "tau");
  expect_refused([] { parse_train_config(R"({"training": {"lr": 1e400}})"); }, "training.lr");
  expect_refused([] { parse_train_config(R"({"training": {"lr": -1e400}})"); }, "training.lr");
}

TEST(TrainConfig, RepeatedKeyIsRefused) {
  expect_refused([] { parse_train_config(R"({"training": {"lr": 0.1, "steps": 5, "lr": 0.2}})"); }, "training.lr");
  expect_refused([] { parse_train_config(R"({"task": {"name": "sine"}, "task": {"name": "sine"}})"); }, "task");
}

TEST(TrainConfig, IntegersMustBeExact) {
  expect_refused([] { parse_train_config(R"({"training": {"steps": 9223372036854775808}})"); }, "training.steps");
  expect_refused([] { parse_train_config(R"({"training": {"batch_size": 2.5}})"); }, "training.batch_size");
  expect_refused([] { parse_train_config(R"({"training": {"data_seed": -1}})"); }, "training.data_seed");
}

void expect_unreadable(const std::string& path) {
  try {
    read_train_config(path);
    ADD_FAILURE() << "read " << path;
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(TrainConfig, OnlyRegularFilesOfBoundedSizeAreRead) {
  expect_unreadable("/dev/zero");  // once read forever
  TempDir dir;
  expect_unreadable(dir.path.string());
  const std::string fifo = dir.file("pipe.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_unreadable(fifo);  // must not wait for a writer
  const std::string huge = dir.file("huge.json");
  std::ofstream(huge) << "{}";
  fs::resize_file(huge, uintmax_t(65) << 20);  // sparse: 65 MiB of zeros past "{}"
  expect_unreadable(huge);
  expect_unreadable(dir.file("absent.json"));
  EXPECT_EQ(read_train_config(dir.write("ok.json", std::string("{") + kSine + "}")).network.dims[1], 100);
}

}  // namespace
}  // namespace ctrnn
