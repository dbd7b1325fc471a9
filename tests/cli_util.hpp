#pragma once
// Running the `ctrnn` program from a test, as a user would from a shell.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <thread>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

#include "ctrnn/dataset.hpp"
#include "test_util.hpp"

namespace ctrnn::test {

// A network and task small enough that a run takes a fraction of a second.
inline const char* const kSmallConfig = R"({
  "dims": [3, 12, 2], "activation": "tanh", "preact_noise": 0.05, "biases": "zero", "seed": 4,
  "task": {"name": "perceptual_decision", "fixation_steps": 3, "stimulus_steps": 8, "decision_steps": 4},
  "training": {"steps": 6, "batch_size": 4, "lr": 0.01, "checkpoint_every": 3, "eval_batch_size": 16}
})";

// A data file for kSmallConfig's dims (I = 3, O = 2): 6 steps of 8 trials of constant u and
// target, written to `path`; returns the path.
inline std::string write_small_data(const std::string& path) {
  DataSet data;
  data.u = Tensor<float>({6, 8, 3}, std::vector<float>(144, 0.25f));
  data.target = Tensor<float>({6, 8, 2}, std::vector<float>(96, 1.0f));
  data.write(path);
  return path;
}

struct CliResult {
  int code;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `ctrnn ARGS` (a shell command line; `env` is prefixed, e.g. "OPENBLAS_NUM_THREADS=1"),
// capturing stdout and stderr separately in files of `dir`.
inline CliResult run_cli(const std::string& args, const std::filesystem::path& dir, const std::string& env = "") {
  const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
  const std::string cmd = env + (env.empty() ? "" : " ") + CTRNN_CLI + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// run_cli in a test's temporary folder, the form every CLI test file calls.
inline CliResult run(const std::string& args, const TempDir& d) { return run_cli(args, d.path); }

// `text` with the first `from` replaced by `to` (a failure when `from` is absent).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Every file of a folder by name, with its contents: to show that a refused command changed
// nothing.
inline std::map<std::string, std::string> folder_contents(const std::filesystem::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    files[entry.path().filename().string()] = entry.is_regular_file() ? slurp(entry.path()) : "<not a file>";
  return files;
}

// `ctrnn ARGS...` started in the background, stdout and stderr into files (for tests that
// signal a run or race two of them). Returns its pid.
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> all{CTRNN_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  posix_spawn_file_actions_addopen(&io, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&io, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &io, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&io);
  return pid;
}

// The exit code of a spawned process, or -N when signal N ended it.
inline int wait_cli(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// wait_cli with a deadline: a process still running after `seconds` is killed (SIGKILL, so the
// result is -9), so that a test of a refusal fails rather than hangs when the refusal is broken.
inline int wait_cli(pid_t pid, double seconds) {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Polls `ready` every 2 ms for at most `seconds`; returns its last value.
inline bool wait_until(const std::function<bool()>& ready, double seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// The error as a user sees it: exit `code`, one line on stderr (the device line may precede
// it) that starts with a single "ctrnn: " and mentions `needle`.
inline void expect_one_line_error(const CliResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_EQ(r.err.find("ctrnn: ctrnn:"), std::string::npos) << r.err;
}

// Trains the config file `config` to `steps` twice, into dir/whole in one run and into dir/part
// in two: to `first` steps, then `--resume` from the checkpoint alone (the config file is
// removed before). One BLAS thread: resuming is bitwise at a fixed thread count. Returns the
// resumed run's result.
inline CliResult train_whole_and_resumed(const std::filesystem::path& dir, const std::string& config, int first,
                                         int steps) {
  const std::string one = "OPENBLAS_NUM_THREADS=1", whole = (dir / "whole").string(), part = (dir / "part").string();
  EXPECT_EQ(run_cli("train " + config + " --out " + whole, dir, one).code, 0);
  EXPECT_EQ(run_cli("train " + config + " --steps " + std::to_string(first) + " --out " + part, dir, one).code, 0);
  std::filesystem::remove(config);
  return run_cli("train --resume " + part + "/checkpoint.safetensors --steps " + std::to_string(steps) + " --out " +
                     part,
                 dir, one);
}

// Rows of metrics.csv (header included) without the last column, elapsed_s.
inline std::vector<std::string> metrics_without_time(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

// Rows of metrics.csv up to diverged: the training itself, without the validation columns
// (written on logging steps, which a resumed run adds) and the time.
inline std::vector<std::string> metrics_of_training(const std::filesystem::path& csv) {
  std::vector<std::string> rows = metrics_without_time(csv);
  for (std::string& row : rows)
    for (int k = 0; k < 2; ++k) row = row.substr(0, row.rfind(','));
  return rows;
}

// Field `column` (by header name) of each data row of metrics.csv.
inline std::vector<std::string> metrics_column(const std::filesystem::path& csv, const std::string& column) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  auto split = [](const std::string& s) {
    std::vector<std::string> f;
    std::stringstream ss(s);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (!s.empty() && s.back() == ',') f.push_back("");
    return f;
  };
  const auto header = split(line);
  const size_t k = size_t(std::find(header.begin(), header.end(), column) - header.begin());
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    const auto f = split(line);
    out.push_back(k < f.size() ? f[k] : "<missing column " + column + ">");
  }
  return out;
}

}  // namespace ctrnn::test
