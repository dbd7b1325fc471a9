#include "fixed_points_command.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "ctrnn/analysis.hpp"
#include "ctrnn/checkpoint.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/run_folder.hpp"
#include "ctrnn/safetensors.hpp"
#include "options.hpp"

namespace ctrnn::cli {

namespace {

// The whole text as a number >= 0 (e.g. 1e-9), or InvalidArgument naming `option`.
double parse_nonnegative(const std::string& text, const std::string& option) {
  size_t used = 0;
  double x = -1;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (text.empty() || used != text.size() || !(x >= 0) || std::isspace(static_cast<unsigned char>(text[0])))
    throw InvalidArgument(option, "a number >= 0 (e.g. 1e-9)", "'" + text + "'");
  return x;
}

// Tensor "u_star" (I) of the inputs file when present, else zeros: the constant input.
Tensor<float> constant_input(const std::string& path, int64_t I) {
  const SafetensorsFile f = SafetensorsFile::read(path);
  if (!f.contains("u_star")) return Tensor<float>({I});
  Tensor<float> u = f.get<float>("u_star");
  if (u.shape != Shape{I})
    throw InvalidArgument("inputs", "tensor 'u_star' of shape (" + std::to_string(I) + ")", shape_to_string(u.shape));
  return u;
}

void print_summary(const FixedPointResult& r) {
  for (size_t e = 0; e < r.networks.size(); ++e) {
    const FixedPoints& f = r.networks[e];
    const std::string who = r.networks.size() > 1 ? "network " + std::to_string(e) + ": " : "";
    if (f.stable.empty()) {  // each point and its speed q all the same
      std::cout << who << f.size() << " fixed points (stability unknown: this build has no LAPACK)\n";
      for (int64_t k = 0; k < f.size(); ++k) {
        char line[64];
        std::snprintf(line, sizeof line, "  point %lld: q %.3g\n", static_cast<long long>(k), f.q_star[size_t(k)]);
        std::cout << line;
      }
      continue;
    }
    int64_t stable = 0;
    for (uint8_t s : f.stable) stable += s;
    std::cout << who << f.size() << " fixed points, " << stable << " stable, " << f.size() - stable << " unstable\n";
    for (int64_t k = 0; k < f.size(); ++k) {
      char line[160];
      const double largest = std::hypot(f.eigenvalues_re.data[size_t(k * f.H)], f.eigenvalues_im.data[size_t(k * f.H)]);
      std::snprintf(line, sizeof line, "  point %lld: q %.3g, |lambda|max %.6f, %lld unstable mode%s\n",
                    static_cast<long long>(k), f.q_star[size_t(k)], largest,
                    static_cast<long long>(f.unstable_modes(k)), f.unstable_modes(k) == 1 ? "" : "s");
      std::cout << line;
    }
  }
}

}  // namespace

void register_fixed_points_command(CLI::App& app, FixedPointsCommand& c) {
  c.app = app.add_subcommand("fixed-points", "fixed points of a checkpoint's networks, their Jacobians and stability");
  c.app->add_option("CHECKPOINT", c.checkpoint, "checkpoint written by ctrnn train")->required()->type_name("PATH");
  c.app->add_option("--inputs", c.inputs,
                    "safetensors with u (T,B,I) or (E,T,B,I): trials whose eval-mode states seed the search; "
                    "optional u_star (I): the constant input (default zeros)")
      ->required()->type_name("PATH");
  c.app->add_option("--out", c.out, "output safetensors (the fixed-point record)")->required()->type_name("PATH");
  c.app->add_option("--n", c.n, "candidate states per network")->capture_default_str()->type_name("N");
  c.app->add_option("--seed", c.seed, "seed of the candidates' draw")->capture_default_str()->type_name("N");
  c.app->add_option("--max-iters", c.max_iters, "most optimizer iterations (default 5000)")->type_name("N");
  c.app->add_option("--max-q", c.max_q, "report only points with q <= Q (default: every unique point, slow ones too)")
      ->type_name("Q");
  c.app->add_option("--device", c.device, "auto (the GPU when present), cpu or cuda")
      ->capture_default_str()
      ->type_name("DEVICE");
  c.app->add_flag("--overwrite", c.overwrite, "replace an existing output file");
}

int FixedPointsCommand::run() const {
  const int64_t candidates = parse_integer(n, "--n", 1, int64_t(1) << 24);
  const uint64_t draw_seed = uint64_t(parse_integer(seed, "--seed", 0, INT64_MAX));
  FixedPointOptions options;
  if (!max_iters.empty()) options.max_iters = parse_integer(max_iters, "--max-iters", 0, int64_t(1) << 31);
  if (!max_q.empty()) options.max_q = parse_nonnegative(max_q, "--max-q");
  const OutputFile out_file(out, "--out", overwrite);
  Network net = std::move(load_checkpoint(checkpoint, parse_device(device)).network);
  if (net.config().init_state == InitState::Keep)
    throw InvalidArgument("CHECKPOINT",
                          "a network with init_state zero or learn (a keep-mode network's trials start from its "
                          "carried state, which the trajectories from v_0 = 0 would not follow)",
                          "init_state keep in " + checkpoint);
  net.eval();
  const Tensor<float> u = read_inputs_option(inputs, net.config());
  const Tensor<float> u_star = constant_input(inputs, net.config().dims[0]);
  const Tensor<float> states = sample_states(state_trajectories(net, u), candidates, 0.5, nullptr, draw_seed);
  const FixedPointResult result = find_fixed_points(net, states, u_star, options);
  try {
    save_fixed_points(out, result);
  } catch (const FileError& e) {
    throw WriteError(e.what());
  }
  print_summary(result);
  std::cout << "wrote " << out << (out_file.existed() ? " (replaced the existing file)" : "") << "\n";
  return kSuccess;
}

}  // namespace ctrnn::cli
