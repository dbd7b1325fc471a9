#pragma once
// `ctrnn fixed-points`: a checkpoint's fixed points (ctrnn/analysis.hpp) under a constant input,
// from candidates drawn along its eval-mode trajectories on given inputs. register_* adds the
// subcommand and its options to the program (main.cpp); run() runs it once parsed.
#include <CLI/CLI.hpp>
#include <string>

namespace ctrnn::cli {

struct FixedPointsCommand {
  CLI::App* app = nullptr;
  std::string checkpoint, inputs, out;
  std::string n = "1024", seed = "0", max_iters, max_q, device = "auto";
  bool overwrite = false;
  int run() const;
};

// The caller keeps the returned object alive until run() (CLI11 writes the options into it).
void register_fixed_points_command(CLI::App& app, FixedPointsCommand& command);

}  // namespace ctrnn::cli
