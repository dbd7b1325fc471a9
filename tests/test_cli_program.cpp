// The `ctrnn` program's command line and run management: help and version, strict numbers,
// messages and exit codes, the output folder's lock and overwrite rules, metrics rows that
// survive a kill, resume from the checkpoint alone and its refusal of a different run, info,
// keep mode's reset, export-task.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <regex>

#include "cli_util.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/dataset.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/device.hpp"
#include "ctrnn/version.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::expect_one_line_error;
using test::kSmallConfig;
using test::TempDir;

using test::run;

TEST(CliProgram, EveryHelpExitsZeroAndVersionPrintsTheVersion) {
  TempDir d;
  for (const char* args : {"--help", "train --help", "eval --help", "info --help", "run --help", "export-task --help"}) {
    const auto r = run(args, d);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args << ": " << r.out;
  }
  const auto v = run("--version", d);
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out, std::string(version()) + "\n");
  EXPECT_EQ(run("", d).code, 2);  // no command: the usage, and a failure for scripts
}

TEST(CliProgram, OptionsTakeEqualsSyntax) {
  TempDir d;
  const auto r = run("train " + d.write("c.json", kSmallConfig) + " --steps=2 --out=" + d.file("o"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(load_checkpoint(d.file("o/checkpoint.safetensors"), Device::Cpu).trainer_state->step, 2);
}

TEST(CliProgram, NumbersAreParsedStrictlyNamingTheOption) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  for (const char* bad : {"abc", "5x", "1e9", "-3", "0", "99999999999999999999999"})
    expect_one_line_error(run("train " + cfg + " --out " + d.file("o") + " --steps " + bad, d), 2, "--steps");
  expect_one_line_error(run("train " + cfg + " --out " + d.file("o") + " --log-every 2.5", d), 2, "--log-every");
  ASSERT_EQ(run("train " + cfg + " --out " + d.file("t"), d).code, 0);
  const std::string ck = d.file("t/checkpoint.safetensors");
  for (const char* bad : {"abc", "5x", "1e9"}) expect_one_line_error(run("eval " + ck + " --batch " + bad, d), 2, "--batch");
  expect_one_line_error(run("export-task " + cfg + " --trials 1e3 --out " + d.file("x.safetensors"), d), 2, "--trials");
  // The same rule for numbers stored in a checkpoint's metadata.
  for (const char* bad : {"-1", "abc", "5x"}) {
    SafetensorsFile f = SafetensorsFile::read(ck);
    f.metadata["eval_batch_size"] = bad;
    f.write(d.file("bad.safetensors"));
    expect_one_line_error(run("eval " + d.file("bad.safetensors"), d), 2, "eval_batch_size");
  }
}

TEST(CliProgram, MessagesHaveOnePrefixAndEscapeBytesThatAreNotUtf8) {
  TempDir d;
  const auto r = run("train " + d.file("bad\xff\xfe.json"), d);
  expect_one_line_error(r, 2, "bad\\xff\\xfe.json");
  EXPECT_EQ(r.err.find('\xff'), std::string::npos);
  EXPECT_EQ(r.err.rfind("ctrnn: ", 0), 0u) << r.err;
  if (!cuda_available()) {  // the device error used to carry the prefix twice
    const auto c = run("train " + d.write("c.json", kSmallConfig) + " --out " + d.file("o") + " --device cuda", d);
    expect_one_line_error(c, 2, "cuda");
  }
}

TEST(CliProgram, OutputFolderIsLockedWhileARunUsesIt) {
  TempDir d;
  fs::create_directories(d.path / "o");
  // Another run holds the folder (as `ctrnn train` does for its lifetime).
  const int fd = ::open(d.file("o/.ctrnn.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const auto r = run("train " + d.write("c.json", kSmallConfig) + " --out " + d.file("o"), d);
  expect_one_line_error(r, 2, d.file("o"));
  EXPECT_NE(r.err.find("another"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.path / "o" / "metrics.csv"));
  ::close(fd);  // released: now it may
  EXPECT_EQ(run("train " + d.file("c.json") + " --out " + d.file("o"), d).code, 0);
}

TEST(CliProgram, FreshRunRefusesToReplaceACheckpointUnlessOverwrite) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --out " + d.file("o"), d).code, 0);
  const std::string metrics = test::slurp(d.path / "o" / "metrics.csv");
  const auto r = run("train " + cfg + " --steps 1 --out " + d.file("o"), d);
  expect_one_line_error(r, 2, "--overwrite");
  EXPECT_EQ(load_checkpoint(d.file("o/checkpoint.safetensors"), Device::Cpu).trainer_state->step, 6);
  EXPECT_EQ(test::slurp(d.path / "o" / "metrics.csv"), metrics);
  ASSERT_EQ(run("train " + cfg + " --steps 1 --overwrite --out " + d.file("o"), d).code, 0);
  EXPECT_EQ(load_checkpoint(d.file("o/checkpoint.safetensors"), Device::Cpu).trainer_state->step, 1);
}

TEST(CliProgram, OutNamingAFileSaysSo) {
  TempDir d;
  const auto r = run("train " + d.write("c.json", kSmallConfig) + " --out " + d.write("f", "x"), d);
  expect_one_line_error(r, 2, "existing file");
}

TEST(CliProgram, FullDiskIsAnIoErrorWithItsOwnExitCode) {
  TempDir d;
  fs::create_directories(d.path / "o");
  fs::create_symlink("/dev/full", d.path / "o" / "metrics.csv");  // every write: ENOSPC
  const auto r = run("train " + d.write("c.json", kSmallConfig) + " --overwrite --out " + d.file("o"), d);
  expect_one_line_error(r, 4, "No space left on device");
  EXPECT_NE(r.err.find("I/O error"), std::string::npos) << r.err;
}

TEST(CliProgram, MetricsKeepNineSignificantDigits) {
  TempDir d;
  ASSERT_EQ(run("train " + d.write("c.json", kSmallConfig) + " --out " + d.file("o"), d).code, 0);
  // Nine significant digits, written without trailing zeros: no value has more, and of the run's
  // values (one per step) at least one has all nine (a value ends in zeros one time in ten per
  // zero, so all of them doing so is out of reach).
  size_t most = 0;
  for (const std::string& loss : test::metrics_column(d.path / "o" / "metrics.csv", "loss")) {
    const std::string digits = std::regex_replace(loss.substr(0, loss.find('e')), std::regex("[^0-9]|^0\\.0*"), "");
    EXPECT_LE(digits.size(), 9u) << loss;
    most = std::max(most, digits.size());
  }
  EXPECT_EQ(most, 9u);
}

// Every metrics row is on disk as soon as its step is done: a run killed (SIGKILL, no chance to
// flush) after its step-5 checkpoint has at least the rows of steps 1 to 5.
TEST(CliProgram, MetricsRowsSurviveAKill) {
  TempDir d;
  std::string cfg = test::replaced(kSmallConfig, "\"steps\": 6", "\"steps\": 1000000, \"log_interval_s\": 1000");
  cfg = test::replaced(cfg, "\"checkpoint_every\": 3", "\"checkpoint_every\": 5");
  const pid_t pid = test::spawn_cli({"train", d.write("c.json", cfg), "--out", d.file("o"), "--device", "cpu"},
                                    d.file("log.txt"), d.file("err.txt"));
  test::wait_until([&] { return fs::exists(d.path / "o" / "checkpoint.safetensors"); });
  ::kill(pid, SIGKILL);
  test::wait_cli(pid);
  ASSERT_TRUE(fs::exists(d.path / "o" / "checkpoint.safetensors"));
  const auto steps = test::metrics_column(d.path / "o" / "metrics.csv", "step");
  ASSERT_GE(steps.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(steps[i], std::to_string(i + 1));
}

// `train --resume CHECKPOINT --steps N` continues from the checkpoint alone (its stored
// config, task and settings) and ends exactly where an uninterrupted run ends. One BLAS thread:
// the guarantee is at a fixed thread count.
TEST(CliProgram, ResumeFromTheCheckpointAloneEqualsAnUninterruptedRun) {
  TempDir d;
  const auto r = test::train_whole_and_resumed(d.path, d.write("c.json", kSmallConfig), 4, 6);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(test::metrics_without_time(d.path / "part" / "metrics.csv"),
            test::metrics_without_time(d.path / "whole" / "metrics.csv"));
  const auto a = load_checkpoint(d.file("whole/checkpoint.safetensors"), Device::Cpu);
  const auto b = load_checkpoint(d.file("part/checkpoint.safetensors"), Device::Cpu);
  EXPECT_EQ(a.network.params().w_hid, b.network.params().w_hid);
  EXPECT_EQ(a.network.params().w_out, b.network.params().w_out);
  EXPECT_EQ(a.trainer_state->m.w_hid, b.trainer_state->m.w_hid);
  EXPECT_EQ(a.trainer_state->v.w_in, b.trainer_state->v.w_in);
  EXPECT_EQ(a.network.forward_calls(), b.network.forward_calls());
}

// Per-network values are part of the run: an ensemble with its own lr, lambda, noise and time
// constants (per network and neuron) per network resumes from the checkpoint alone bit for bit,
// and a config with another per-network value is refused naming it.
TEST(CliProgram, PerNetworkValuesResumeAndArePartOfTheRun) {
  TempDir d;
  const std::string tau = "{\"per_network\": [[20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130], "
                          "[100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 10]]}";
  const std::string per_network = test::replaced(
      test::replaced(test::replaced(kSmallConfig, "\"preact_noise\": 0.05",
                                    "\"preact_noise\": {\"per_network\": [0.05, 0]}, \"tau\": " + tau),
                     "\"seed\": 4", "\"seed\": 4, \"ensemble_size\": 2"),
      "\"lr\": 0.01", "\"lr\": {\"per_network\": [0.01, 0.03]}, \"clip_grad_norm\": {\"per_network\": [0, 0.5]}");
  const std::string with_loss =
      test::replaced(per_network, "\"training\"", "\"loss\": {\"lambda_fr\": {\"per_network\": [0.1, 0]}}, \"training\"");
  const auto r = test::train_whole_and_resumed(d.path, d.write("c.json", with_loss), 4, 6);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(test::metrics_without_time(d.path / "part" / "metrics.csv"),
            test::metrics_without_time(d.path / "whole" / "metrics.csv"));
  const auto a = load_checkpoint(d.file("whole/checkpoint.safetensors"), Device::Cpu);
  EXPECT_EQ(a.optimizer.lr, PerNetwork::each({0.01, 0.03}));
  EXPECT_EQ(a.loss_weights[kLossFr], PerNetwork::each({0.1, 0}));
  const std::string other_lr = test::replaced(with_loss, "[0.01, 0.03]", "[0.01, 0.02]");
  expect_one_line_error(run("train " + d.write("x.json", other_lr) + " --out " + d.file("whole") + " --resume " +
                                d.file("whole/checkpoint.safetensors"),
                            d),
                        2, "training.lr");
  const std::string other_lambda = test::replaced(with_loss, "[0.1, 0]", "[0.1, 0.2]");
  expect_one_line_error(run("train " + d.write("y.json", other_lambda) + " --out " + d.file("whole") + " --resume " +
                                d.file("whole/checkpoint.safetensors"),
                            d),
                        2, "loss.lambda_fr");
  const std::string other_tau = test::replaced(with_loss, "100, 10]", "100, 11]");
  expect_one_line_error(run("train " + d.write("z.json", other_tau) + " --out " + d.file("whole") + " --resume " +
                                d.file("whole/checkpoint.safetensors"),
                            d),
                        2, "the same tau");
}

TEST(CliProgram, ResumeRefusesADifferentRunNamingTheFirstDifference) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --steps 3 --out " + d.file("o"), d).code, 0);
  const std::string ck = d.file("o/checkpoint.safetensors");
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> changes{
      {"tau", {"\"seed\": 4", "\"seed\": 4, \"tau\": 50"}},
      {"activation", {"\"tanh\"", "\"relu\""}},
      {"seed", {"\"seed\": 4", "\"seed\": 5"}},
      {"init_state", {"\"seed\": 4", "\"seed\": 4, \"init_state\": \"learn\""}},
      {"training.optimizer", {"\"lr\": 0.01", "\"lr\": 0.01, \"optimizer\": \"sgd\""}},
      {"training.batch_size", {"\"batch_size\": 4", "\"batch_size\": 5"}},
      {"task.stimulus_steps", {"\"stimulus_steps\": 8", "\"stimulus_steps\": 9"}},
      {"loss.lambda_fr", {"\"training\"", "\"loss\": {\"lambda_fr\": 0.1}, \"training\""}},
  };
  for (const auto& [field, change] : changes) {
    const auto r = run("train " + d.write("x.json", test::replaced(kSmallConfig, change.first, change.second)) + " --out " +
                           d.file("o") + " --resume " + ck,
                       d);
    expect_one_line_error(r, 2, field);
  }
  EXPECT_EQ(load_checkpoint(ck, Device::Cpu).trainer_state->step, 3);
  // What may change: steps, logging, checkpointing, evaluation size, the output folder.
  const std::string allowed = test::replaced(test::replaced(kSmallConfig, "\"steps\": 6", "\"steps\": 5, \"log_every\": 2"),
                                       "\"eval_batch_size\": 16", "\"eval_batch_size\": 8");
  const auto ok = run("train " + d.write("ok.json", allowed) + " --out " + d.file("o2") + " --resume " + ck, d);
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(CliProgram, InfoPrintsTheStoredConfigAndTrainingState) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --out " + d.file("o"), d).code, 0);
  const std::string ck = d.file("o/checkpoint.safetensors");
  const auto text = run("info " + ck, d);
  ASSERT_EQ(text.code, 0) << text.err;
  for (const char* fact : {"step 6", "adam", "last loss", "perceptual_decision", "\"tanh\"", "hidden"})
    EXPECT_NE(text.out.find(fact), std::string::npos) << fact << "\n" << text.out;
  const auto json = run("info --json " + ck, d);
  ASSERT_EQ(json.code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["training"]["step"], 6);
  EXPECT_EQ(j["training"]["optimizer"]["optimizer"], "adam");
  EXPECT_EQ(j["training"]["last_loss"].size(), 1u);
  EXPECT_EQ(j["config"]["dims"], nlohmann::json({3, 12, 2}));
  EXPECT_EQ(j["task"]["name"], "perceptual_decision");
  EXPECT_EQ(j["layers"].size(), 3u);
  expect_one_line_error(run("info " + cfg, d), 2, "expected a checkpoint (.safetensors), got a JSON config");
}

TEST(CliProgram, KeepModeStateCanBeResetFromTheCommandLine) {
  TempDir d;
  const std::string cfg = d.write("k.json", test::replaced(kSmallConfig, "\"seed\": 4", "\"seed\": 4, \"init_state\": \"keep\""));
  ASSERT_EQ(run("train " + cfg + " --out " + d.file("o"), d).code, 0);
  const std::string ck = d.file("o/checkpoint.safetensors");
  // The checkpoint carries the state of batch size 4; 16 fresh trials need a reset.
  ASSERT_TRUE(load_checkpoint(ck, Device::Cpu).network.kept_state().numel() > 0);
  expect_one_line_error(run("eval " + ck + " --batch 16", d), 2, "--reset-state");
  const auto r = run("eval " + ck + " --batch 16 --reset-state", d);
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(CliProgram, ExportTaskWritesTrainableTrials) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  const auto r = run("export-task " + cfg + " --trials 10 --out " + d.file("t.safetensors"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  const DataSet s = DataSet::read(d.file("t.safetensors"));
  EXPECT_EQ(s.u.shape, (Shape{15, 10, 3}));
  EXPECT_EQ(s.target.shape, (Shape{15, 10, 2}));
  EXPECT_EQ(s.mask.shape, (Shape{15, 10, 2}));
  ASSERT_EQ(run("export-task " + cfg + " --trials 10 --seed 9 --out " + d.file("v.safetensors"), d).code, 0);
  EXPECT_NE(DataSet::read(d.file("v.safetensors")).fingerprint, s.fingerprint);
  const auto t = run("train " + cfg + " --data " + d.file("t.safetensors") + " --val-data " + d.file("v.safetensors") +
                         " --out " + d.file("o"),
                     d);
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("val loss"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("acc"), std::string::npos) << t.out;  // the built-in task's choices carry over
}

// A CPU run never loads cuBLAS (whose initialisation cost every call ~0.5 s when it was linked):
// the dynamic loader's log of a whole `train --device cpu` names no libcublas.
TEST(CliProgram, CpuRunsNeverLoadCublas) {
  TempDir d;
  const auto r = test::run_cli("train " + d.write("c.json", kSmallConfig) + " --device cpu --out " + d.file("o"), d.path,
                               "LD_DEBUG=files");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("libc.so"), std::string::npos) << "no loader log to check";
  EXPECT_EQ(r.err.find("libcublas"), std::string::npos);
}

}  // namespace
}  // namespace ctrnn
