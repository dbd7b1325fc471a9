// The `ctrnn` program as a user runs it: bad configs and paths give one clear line and a
// non-zero exit; a non-finite loss stops training naming the step and keeps the last good
// checkpoint; resume reproduces an uninterrupted run; `run` simulates given inputs; the README's
// demo reaches its accuracy. (test_cli_program.cpp: help, numbers, output folders, resume rules;
// test_cli_data.cpp: training on data files.)
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/train_config.hpp"
#include "cli_util.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

test::CliResult run(const std::string& args, const fs::path& dir) { return test::run_cli(args, dir); }
using test::expect_one_line_error;

using test::kSmallConfig;

TEST(Cli, MalformedConfigNamesTheKey) {
  TempDir d;
  std::string bad = kSmallConfig;
  bad.replace(bad.find("\"seed\""), 6, "\"sead\"");
  expect_one_line_error(run("train " + d.write("a.json", bad) + " --out " + (d.path / "o").string(), d.path), 2, "sead");
  bad = kSmallConfig;
  bad.replace(bad.find("\"lr\": 0.01"), 10, "\"lr\": \"fast\"");
  expect_one_line_error(run("train " + d.write("b.json", bad), d.path), 2, "training.lr");
  bad = kSmallConfig;
  bad.replace(bad.find("\"batch_size\""), 12, "\"batchsize\"");
  expect_one_line_error(run("train " + d.write("c.json", bad), d.path), 2, "training.batchsize");
  bad = kSmallConfig;
  bad.replace(bad.find("\"tanh\""), 6, "\"gelu\"");
  expect_one_line_error(run("train " + d.write("e.json", bad), d.path), 2, "activation");
  expect_one_line_error(run("train " + d.write("f.json", "{\"task\": {\"name\": \"sine\", \"steps\": -4}}"), d.path), 2,
                        "task.steps");
}

TEST(Cli, MissingFilesAndUnwritableOutput) {
  TempDir d;
  expect_one_line_error(run("train " + (d.path / "nope.json").string(), d.path), 2, "nope.json");
  const std::string cfg = d.write("ok.json", kSmallConfig);
  const std::string blocker = d.write("blocker", "a file, not a folder");
  // The cause named: a file in the path (not "not writable").
  expect_one_line_error(run("train " + cfg + " --out " + blocker + "/sub", d.path), 2, "'" + blocker + "' in its path is a file");
  expect_one_line_error(run("eval " + d.write("corrupt.safetensors", "garbage bytes here"), d.path), 2, "checkpoint");
  expect_one_line_error(run("info " + (d.path / "missing.safetensors").string(), d.path), 2, "checkpoint");
  expect_one_line_error(run("train " + cfg + " --device tpu", d.path), 2, "device");
  expect_one_line_error(run("train " + cfg + " --stepz 3", d.path), 2, "--stepz");
}

// kSmallConfig with plain SGD at learning rate `lr` and a checkpoint after every step.
std::string sgd_config(const std::string& lr) {
  std::string cfg = kSmallConfig;
  cfg.replace(cfg.find("\"lr\": 0.01"), 10, "\"optimizer\": \"sgd\", \"lr\": " + lr + ", \"checkpoint_every\": 1");
  cfg.replace(cfg.find(", \"checkpoint_every\": 3"), 23, "");
  return cfg;
}

TEST(Cli, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  TempDir d;
  // An absurd learning rate: the first update sends the weights to ~1e30, so the loss of step 3
  // overflows.
  const fs::path out = d.path / "o";
  const test::CliResult r = run("train " + d.write("nan.json", sgd_config("1e36")) + " --out " + out.string(), d.path);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("at step (\\d+)"))) << r.err;
  const int bad_step = std::stoi(m[1]);
  EXPECT_GE(bad_step, 2);
  EXPECT_NE(r.err.find("last good checkpoint"), std::string::npos) << r.err;
  const Checkpoint ck = load_checkpoint((out / "checkpoint.safetensors").string(), Device::Cpu);
  EXPECT_EQ(ck.trainer_state->step, bad_step - 1);
}

TEST(Cli, WeightsThatOverflowAreNeverSaved) {
  // lr 1e300: step 1's loss is finite, its update would send float weights to Inf. It is not
  // applied (the only network diverges: the run stops), and no checkpoint is written.
  TempDir d;
  const fs::path out = d.path / "o";
  const test::CliResult r = run("train " + d.write("inf.json", sgd_config("1e300")) + " --out " + out.string(), d.path);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("the update would make parameters or optimizer moments NaN or Inf at step 1"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("No checkpoint was saved yet"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "checkpoint.safetensors")) << "a checkpoint was written";
}

// An ensemble in which one network diverges trains to the end: network 1's readout weights of
// 1e30 make its loss Inf at the first step. It is reported diverged in the progress line,
// metrics.csv, the checkpoint and `ctrnn info`; the run exits 0.
TEST(Cli, ADivergingNetworkDoesNotStopTheEnsemble) {
  TempDir d;
  std::string w_out = "[";
  for (int e = 0; e < 2; ++e) {
    w_out += e ? ", [" : "[";
    for (int h = 0; h < 12; ++h) w_out += std::string(h ? ", " : "") + (e ? "[1e30, 1e30]" : "[0.1, -0.1]");
    w_out += "]";
  }
  w_out += "]";
  std::string cfg = kSmallConfig;
  cfg.replace(cfg.find("\"seed\": 4"), 9, "\"seed\": 4, \"ensemble_size\": 2, \"weights\": [\"uniform\", \"uniform\", " + w_out + "]");
  const fs::path out = d.path / "o";
  const test::CliResult r = run("train " + d.write("e2.json", cfg) + " --out " + out.string(), d.path);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("| diverged 1/2"), std::string::npos) << r.out;
  const std::vector<std::string> diverged = test::metrics_column(out / "metrics.csv", "diverged");
  ASSERT_EQ(diverged.size(), 12u);  // 6 steps, 2 networks
  for (size_t i = 0; i < diverged.size(); ++i) EXPECT_EQ(diverged[i], i % 2 ? "1" : "0") << "row " << i;
  const Checkpoint ck = load_checkpoint((out / "checkpoint.safetensors").string(), Device::Cpu);
  EXPECT_EQ(ck.trainer_state->step, 6);
  EXPECT_EQ(ck.trainer_state->diverged, (std::vector<bool>{false, true}));
  const test::CliResult info = run("info " + (out / "checkpoint.safetensors").string(), d.path);
  EXPECT_NE(info.out.find("diverged networks [1]"), std::string::npos) << info.out;
}

TEST(Cli, ResumeReproducesAnUninterruptedRun) {
  TempDir d;
  const std::string cfg = d.write("small.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --out " + (d.path / "whole").string(), d.path).code, 0);
  ASSERT_EQ(run("train " + cfg + " --steps 3 --out " + (d.path / "part").string(), d.path).code, 0);
  const test::CliResult r = run("train " + cfg + " --out " + (d.path / "part").string() + " --resume " +
                           (d.path / "part" / "checkpoint.safetensors").string(),
                       d.path);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(test::metrics_without_time(d.path / "part" / "metrics.csv"), test::metrics_without_time(d.path / "whole" / "metrics.csv"));
  const auto a = load_checkpoint((d.path / "whole" / "checkpoint.safetensors").string(), Device::Cpu);
  const auto b = load_checkpoint((d.path / "part" / "checkpoint.safetensors").string(), Device::Cpu);
  EXPECT_EQ(a.network.params().w_hid, b.network.params().w_hid);
  EXPECT_EQ(a.trainer_state->m.w_hid, b.trainer_state->m.w_hid);
}

TEST(Cli, RunSimulatesGivenInputsInEvalMode) {
  TempDir d;
  const std::string cfg = d.write("small.json", kSmallConfig);
  SafetensorsFile in;
  Tensor<float> u({7, 2, 3});
  for (int64_t i = 0; i < u.numel(); ++i) u.data[i] = float(i % 5) * 0.2f;
  in.put("u", u);
  in.write((d.path / "in.safetensors").string());
  const test::CliResult r = run("run " + cfg + " --inputs " + (d.path / "in.safetensors").string() + " --out " +
                           (d.path / "out.safetensors").string() + " --device cpu",
                       d.path);
  ASSERT_EQ(r.code, 0) << r.err;
  const SafetensorsFile out = SafetensorsFile::read((d.path / "out.safetensors").string());
  Network net(parse_train_config(kSmallConfig).network, Device::Cpu);
  net.eval();
  const auto expected = net.forward(u);
  EXPECT_EQ(out.get<float>("y").data, expected.y.data);
  EXPECT_EQ(out.get<float>("r").shape, (Shape{1, 7, 2, 12}));
  // From a checkpoint too.
  ASSERT_EQ(run("train " + cfg + " --out " + (d.path / "t").string(), d.path).code, 0);
  EXPECT_EQ(run("run " + (d.path / "t" / "checkpoint.safetensors").string() + " --inputs " +
                    (d.path / "in.safetensors").string() + " --out " + (d.path / "out2.safetensors").string(),
                d.path)
                .code,
            0);
  expect_one_line_error(run("run " + cfg + " --inputs " + (d.path / "in.safetensors").string(), d.path), 2, "--out");
  // Inputs that do not fit the network (I = 4, not 3) are refused through read_run_inputs.
  SafetensorsFile wrong;
  wrong.put("u", Tensor<float>({7, 2, 4}));
  wrong.write((d.path / "wrong.safetensors").string());
  expect_one_line_error(run("run " + cfg + " --inputs " + (d.path / "wrong.safetensors").string() + " --out " +
                                (d.path / "out3.safetensors").string() + " --device cpu",
                            d.path),
                        2, "(T, B, 3)");
}

// The README's demo: the perceptual-decision example reaches >= 85% decision accuracy on fresh
// trials (eval mode) within its configured 1500 steps (~20 s on one CPU core).
TEST(Cli, DemoReachesItsAccuracy) {
  TempDir d;
  const test::CliResult r = run("train " CTRNN_SOURCE_DIR "/examples/perceptual_decision.json --device cpu --out " +
                           (d.path / "demo").string(),
                       d.path);
  ASSERT_EQ(r.code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("final .* acc ([0-9.]+)"))) << r.out;
  EXPECT_GE(std::stod(m[1]), 0.85) << r.out;
}

}  // namespace
}  // namespace ctrnn
