#pragma once
// The subcommands of the `ctrnn` program. Each returns the process exit code.
#include <map>
#include <string>
#include <vector>

namespace ctrnn::cli {

// Parsed "--flag value" options and positional arguments; unknown flags are errors.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  // Splits argv; `flags` lists the options that take a value (e.g. "--out").
  static Args parse(int argc, char** argv, int first, const std::vector<std::string>& flags);
  std::string get(const std::string& flag, const std::string& fallback = "") const;
  bool has(const std::string& flag) const { return options.count(flag) != 0; }
};

// Exit codes: 0 success, 1 failure while running, 2 bad usage or input, 3 non-finite loss.
int train_command(const Args& args);
int eval_command(const Args& args);
int info_command(const Args& args);
int run_command(const Args& args);

}  // namespace ctrnn::cli
