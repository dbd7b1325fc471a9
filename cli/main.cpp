// ctrnn: train, evaluate, inspect and run continuous-time RNNs from the command line.
#include <iostream>
#include <string>

#include "commands.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"

namespace {

const char* kUsage =
    "usage:\n"
    "  ctrnn train CONFIG.json [--out DIR] [--device auto|cpu|cuda] [--steps N] [--resume CHECKPOINT]\n"
    "  ctrnn eval CHECKPOINT [--device auto|cpu|cuda] [--batch N]\n"
    "  ctrnn info CHECKPOINT\n"
    "  ctrnn run CONFIG.json|CHECKPOINT --inputs IN.safetensors --out OUT.safetensors [--device auto|cpu|cuda]\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace ctrnn::cli;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "train") return train_command(Args::parse(argc, argv, 2, {"--out", "--device", "--steps", "--resume"}));
    if (cmd == "eval") return eval_command(Args::parse(argc, argv, 2, {"--device", "--batch"}));
    if (cmd == "info") return info_command(Args::parse(argc, argv, 2, {}));
    if (cmd == "run") return run_command(Args::parse(argc, argv, 2, {"--inputs", "--out", "--device"}));
    std::cerr << "ctrnn: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const ctrnn::InvalidArgument& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const ctrnn::FileError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ctrnn: " << e.what() << "\n";
    return 1;
  }
}
