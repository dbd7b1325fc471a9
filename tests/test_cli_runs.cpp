// The output policy with real `ctrnn` processes: two runs on one folder, resumes into folders
// that hold another run's files, `run` and `export-task` over a checkpoint, paths found bad
// before training, the last good checkpoint after a divergence, a data file that moved, and
// the stop signals (one: the step finished and saved; two: out at once, nothing damaged).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <regex>

#include "cli_util.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/dataset.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::expect_one_line_error;
using test::kSmallConfig;
using test::TempDir;

using test::run;

// kSmallConfig for a run that goes on until stopped, saving only at the end.
std::string endless_config() {
  std::string cfg = test::replaced(kSmallConfig, "\"steps\": 6", "\"steps\": 100000000, \"log_interval_s\": 1000");
  return test::replaced(cfg, "\"checkpoint_every\": 3", "\"checkpoint_every\": 0");
}

size_t metrics_rows(const fs::path& folder) {
  return fs::exists(folder / "metrics.csv") ? test::metrics_column(folder / "metrics.csv", "step").size() : 0;
}

int64_t checkpoint_step(const fs::path& path) { return load_checkpoint(path.string(), Device::Cpu).trainer_state->step; }

// A second `ctrnn train` process on a folder that a running one uses is refused, even with
// --overwrite (the lock is exclusive: a shared lock would let both in).
TEST(CliRuns, SecondTrainProcessOnALockedFolderIsRefused) {
  TempDir d;
  const std::string cfg = d.write("c.json", endless_config());
  const pid_t first = test::spawn_cli({"train", cfg, "--out", d.file("o"), "--device", "cpu"}, d.file("1.out"), d.file("1.err"));
  ASSERT_TRUE(test::wait_until([&] { return metrics_rows(d.path / "o") >= 1; })) << test::slurp(d.path / "1.err");
  const pid_t second = test::spawn_cli({"train", cfg, "--overwrite", "--out", d.file("o"), "--device", "cpu"},
                                       d.file("2.out"), d.file("2.err"));
  const int second_code = test::wait_cli(second, 30);
  ::kill(first, SIGTERM);
  EXPECT_EQ(test::wait_cli(first, 30), 128 + SIGTERM) << test::slurp(d.path / "1.err");
  expect_one_line_error({second_code, "", test::slurp(d.path / "2.err")}, 2, "locked by another ctrnn run");
  // The first run's rows only: the second wrote nothing.
  const auto steps = test::metrics_column(d.path / "o" / "metrics.csv", "step");
  std::vector<std::string> expected;
  for (size_t i = 0; i < steps.size(); ++i) expected.push_back(std::to_string(i + 1));
  EXPECT_TRUE(steps == expected) << "metrics.csv holds rows of two runs";
}

// --resume from one folder's checkpoint into another folder that holds a different run's
// checkpoint (or only its metrics.csv) is refused unless --overwrite; with it, the folder's
// metrics.csv holds this run's rows only.
TEST(CliRuns, ResumeIntoAFolderOfAnotherRunNeedsOverwrite) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --steps 3 --out " + d.file("a"), d).code, 0);
  ASSERT_EQ(run("train " + cfg + " --steps 5 --out " + d.file("b"), d).code, 0);
  const std::string a_ck = d.file("a/checkpoint.safetensors");
  const auto b_before = test::folder_contents(d.path / "b");
  const auto r = run("train --resume " + a_ck + " --steps 6 --out " + d.file("b"), d);
  expect_one_line_error(r, 2, "--overwrite");
  EXPECT_EQ(test::folder_contents(d.path / "b"), b_before);

  // Only another run's metrics.csv (that run saved no checkpoint): refused all the same.
  fs::create_directories(d.path / "c");
  fs::copy_file(d.path / "b" / "metrics.csv", d.path / "c" / "metrics.csv");
  expect_one_line_error(run("train --resume " + a_ck + " --steps 6 --out " + d.file("c"), d), 2, "--overwrite");
  ASSERT_EQ(run("train --resume " + a_ck + " --steps 6 --overwrite --out " + d.file("c"), d).code, 0);
  EXPECT_EQ(test::metrics_column(d.path / "c" / "metrics.csv", "step"), (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(checkpoint_step(d.path / "c" / "checkpoint.safetensors"), 6);

  // Continuing the folder's own checkpoint keeps its rows up to that step.
  ASSERT_EQ(run("train --resume " + d.file("c/checkpoint.safetensors") + " --steps 7 --out " + d.file("c"), d).code, 0);
  EXPECT_EQ(test::metrics_column(d.path / "c" / "metrics.csv", "step"), (std::vector<std::string>{"4", "5", "6", "7"}));
}

// clip_grad_norm is part of the run: a resume with other clipping is refused, naming it.
TEST(CliRuns, ResumeWithOtherClippingIsRefused) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --steps 3 --out " + d.file("o"), d).code, 0);
  const std::string clipped = d.write("clipped.json", test::replaced(kSmallConfig, "\"lr\": 0.01", "\"lr\": 0.01, \"clip_grad_norm\": 0.5"));
  const auto r = run("train " + clipped + " --resume " + d.file("o/checkpoint.safetensors") + " --out " + d.file("o"), d);
  expect_one_line_error(r, 2, "training.clip_grad_norm");
  EXPECT_EQ(checkpoint_step(d.path / "o" / "checkpoint.safetensors"), 3);
}

// `run --out` and `export-task --out` follow the same policy: an existing file (a training
// checkpoint above all) is replaced only with --overwrite, and never inside a folder that a run
// has locked.
TEST(CliRuns, RunAndExportTaskDoNotReplaceFilesWithoutOverwrite) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --out " + d.file("o"), d).code, 0);
  const std::string ck = d.file("o/checkpoint.safetensors");
  DataSet inputs;
  inputs.u = Tensor<float>({5, 2, 3}, std::vector<float>(30, 0.5f));
  inputs.target = Tensor<float>({5, 2, 2});
  inputs.write(d.file("in.safetensors"));
  const auto before = test::folder_contents(d.path / "o");
  expect_one_line_error(run("run " + ck + " --inputs " + d.file("in.safetensors") + " --out " + ck, d), 2, "--overwrite");
  expect_one_line_error(run("export-task " + cfg + " --trials 4 --out " + ck, d), 2, "--overwrite");
  EXPECT_EQ(test::folder_contents(d.path / "o"), before);

  // A locked folder: refused even with --overwrite, before the simulation.
  const int fd = ::open(d.file("o/.ctrnn.lock").c_str(), O_RDWR);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string sim = d.file("o/sim.safetensors");
  expect_one_line_error(run("run " + ck + " --inputs " + d.file("in.safetensors") + " --out " + sim, d), 2, "locked");
  expect_one_line_error(run("export-task " + cfg + " --trials 4 --overwrite --out " + ck, d), 2, "locked");
  ::close(fd);
  EXPECT_EQ(test::folder_contents(d.path / "o"), before);

  ASSERT_EQ(run("run " + ck + " --inputs " + d.file("in.safetensors") + " --out " + sim, d).code, 0);
  expect_one_line_error(run("run " + ck + " --inputs " + d.file("in.safetensors") + " --out " + sim, d), 2, "existing file");
  const auto again = run("run " + ck + " --inputs " + d.file("in.safetensors") + " --overwrite --out " + sim, d);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("replaced the existing file"), std::string::npos) << again.out;
}

// What sits where the checkpoint goes is found before training, not at the first save.
TEST(CliRuns, CheckpointPathThatIsNotAFileIsRefusedBeforeTraining) {
  TempDir d;
  const std::string cfg = d.write("c.json", kSmallConfig);
  fs::create_directories(d.path / "dir" / "checkpoint.safetensors");
  fs::create_directories(d.path / "link");
  fs::create_symlink(d.path / "elsewhere.safetensors", d.path / "link" / "checkpoint.safetensors");
  for (const char* folder : {"dir", "link"}) {
    const auto r = run("train " + cfg + " --overwrite --out " + d.file(folder), d);
    expect_one_line_error(r, 2, "checkpoint.safetensors");
    EXPECT_EQ(r.out.find("step "), std::string::npos) << folder << ": trained before refusing\n" << r.out;
    EXPECT_FALSE(fs::exists(d.path / folder / "metrics.csv")) << folder;
  }
}

// A resumed run into a new folder that diverges names the checkpoint it resumed from (which
// exists), not the new folder's (which does not).
TEST(CliRuns, LastGoodCheckpointOfAResumedRunExists) {
  TempDir d;
  // SGD at lr 1e36 (test_cli.cpp's NonFiniteLoss test): the loss of step 3 overflows.
  std::string cfg = test::replaced(kSmallConfig, "\"lr\": 0.01", "\"optimizer\": \"sgd\", \"lr\": 1e36");
  const std::string path = d.write("nan.json", cfg);
  ASSERT_EQ(run("train " + path + " --steps 1 --out " + d.file("a"), d).code, 0);
  const auto r = run("train --resume " + d.file("a/checkpoint.safetensors") + " --steps 6 --out " + d.file("b"), d);
  EXPECT_EQ(r.code, 3) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("last good checkpoint is (\\S+) \\(step (\\d+)\\)"))) << r.err;
  EXPECT_TRUE(fs::exists(m[1].str())) << r.err;
  EXPECT_EQ(checkpoint_step(m[1].str()), std::stoi(m[2]));
}

// --resume CK --data NEW continues a run whose data file has moved: the old path is never read.
TEST(CliRuns, ResumeWithTheDataFileMoved) {
  TempDir d;
  test::write_small_data(d.file("old.safetensors"));
  ASSERT_EQ(run("train " + d.write("c.json", kSmallConfig) + " --data " + d.file("old.safetensors") + " --steps 2 --out " +
                    d.file("o"),
                d)
                .code,
            0);
  fs::rename(d.path / "old.safetensors", d.path / "new.safetensors");
  const auto r = run("train --resume " + d.file("o/checkpoint.safetensors") + " --data " + d.file("new.safetensors") +
                         " --steps 4 --out " + d.file("o"),
                     d);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(checkpoint_step(d.path / "o" / "checkpoint.safetensors"), 4);
}

// SIGINT, SIGTERM and SIGHUP: the step under way is finished and saved (the checkpoint holds
// the last step of metrics.csv), one line names the signal, the exit code is 128 + its number,
// and --resume continues from there.
TEST(CliRuns, StopSignalSavesTheLastStepAndExitsWithItsCode) {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    TempDir d;
    const pid_t pid = test::spawn_cli({"train", d.write("c.json", endless_config()), "--out", d.file("o"), "--device", "cpu"},
                                      d.file("out.txt"), d.file("err.txt"));
    ASSERT_TRUE(test::wait_until([&] { return metrics_rows(d.path / "o") >= 3; })) << test::slurp(d.path / "err.txt");
    ::kill(pid, sig);
    const int code = test::wait_cli(pid);
    const std::string err = test::slurp(d.path / "err.txt");
    const std::string name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
    expect_one_line_error({code, "", err}, 128 + sig, "stopped by " + name);
    const auto steps = test::metrics_column(d.path / "o" / "metrics.csv", "step");
    ASSERT_FALSE(steps.empty());
    const int64_t saved = checkpoint_step(d.path / "o" / "checkpoint.safetensors");
    EXPECT_EQ(std::to_string(saved), steps.back()) << name << ": steps after the checkpoint were lost";
    EXPECT_NE(err.find("after step " + std::to_string(saved)), std::string::npos) << err;
    const auto resumed = run("train --resume " + d.file("o/checkpoint.safetensors") + " --steps " +
                                 std::to_string(saved + 2) + " --out " + d.file("o"),
                             d);
    EXPECT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_EQ(checkpoint_step(d.path / "o" / "checkpoint.safetensors"), saved + 2);
  }
}

// A second signal ends the run at once (saying so, where the first one's path would name the
// saved step), and the folder is intact: whatever checkpoint is there loads, and the run continues.
TEST(CliRuns, SecondSignalExitsAtOnceWithoutDamage) {
  TempDir d;
  std::string cfg = test::replaced(endless_config(), "\"checkpoint_every\": 0", "\"checkpoint_every\": 1");
  const pid_t pid = test::spawn_cli({"train", d.write("c.json", cfg), "--out", d.file("o"), "--device", "cpu"},
                                    d.file("out.txt"), d.file("err.txt"));
  ASSERT_TRUE(test::wait_until([&] { return metrics_rows(d.path / "o") >= 3; })) << test::slurp(d.path / "err.txt");
  ::kill(pid, SIGINT);
  ::kill(pid, SIGTERM);
  const int code = test::wait_cli(pid);
  // Pending signals may be delivered in either order: the code is the one that arrived second.
  EXPECT_TRUE(code == 128 + SIGINT || code == 128 + SIGTERM) << code;
  expect_one_line_error({code, "", test::slurp(d.path / "err.txt")}, code, "second signal");
  const int64_t saved = checkpoint_step(d.path / "o" / "checkpoint.safetensors");
  EXPECT_GE(saved, 2);  // step 3 has its metrics row; its save may have been cut short
  const auto resumed = run("train --resume " + d.file("o/checkpoint.safetensors") + " --steps " +
                               std::to_string(saved + 1) + " --out " + d.file("o"),
                           d);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  for (const auto& entry : fs::directory_iterator(d.path / "o"))  // the save removed any temporary
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

}  // namespace
}  // namespace ctrnn
