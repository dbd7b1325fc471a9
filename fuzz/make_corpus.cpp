// Writes the seed corpus of the fuzzers into the folder given (fuzz/corpus, committed): small
// valid inputs of each kind, which libFuzzer mutates. Run after a format change:
//   build-sanitized/fuzz/fuzz_make_corpus fuzz/corpus
#include <filesystem>
#include <fstream>
#include <iostream>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/safetensors.hpp"

namespace {

using namespace ctrnn;
namespace fs = std::filesystem;

void text(const fs::path& dir, const std::string& name, const std::string& content) {
  fs::create_directories(dir);
  std::ofstream(dir / name) << content;
}

Config dale_config() {
  Config c;
  c.dims = {2, 3, 2};
  c.ensemble_size = 2;
  c.seed = 3;
  c.biases = {InitSpec::zero(), InitSpec::uniform(), InitSpec::none()};
  c.init_state = InitState::Learn;
  c.ei_masks = {std::nullopt, Array({3, 3}, {1, 1, 1, 1, 1, 1, -1, -1, -1}), std::nullopt};
  c.sparsity_masks = {std::nullopt, Array({3, 3}, {1, 0, 1, 1, 1, 0, 0, 1, 1}), std::nullopt};
  c.synapse_growth_masks = {std::nullopt, Array({3, 3}, 0.5), std::nullopt};
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus CORPUS_DIR\n";
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* d : {"safetensors", "checkpoint", "run_inputs"}) fs::create_directories(root / d);

  SafetensorsFile f;
  f.put("w", Tensor<float>({2, 3}, {1, -2, 3.5f, 4, 5, -6}));
  f.put("d", Tensor<double>({2}, {0.25, -1}));
  f.put("n", Tensor<int64_t>({1}, std::vector<int64_t>{7}));
  f.put("m", Tensor<uint8_t>({2}, {0, 1}));
  f.metadata["note"] = "seed";
  f.write((root / "safetensors" / "mixed.safetensors").string());

  Network net(dale_config(), Device::Cpu);
  Trainer trainer(net, OptimizerConfig{});
  const Tensor<float> u({3, 2, 2}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 1.1f, 1.2f});
  trainer.step(u, Tensor<float>({3, 2, 2}, 0.5f));
  save_checkpoint((root / "checkpoint" / "trained.safetensors").string(), net, &trainer,
                  {{"eval_batch_size", "8"}, {"task", R"({"name": "sine"})"}});
  Config keep;
  keep.dims = {1, 2, 1};
  keep.init_state = InitState::Keep;
  Network kept(keep, Device::Cpu);
  kept.forward(Tensor<float>({2, 1, 1}, 0.5f));
  kept.eval();
  save_checkpoint((root / "checkpoint" / "keep.safetensors").string(), kept);

  SafetensorsFile in;
  in.put("u", u);
  in.write((root / "run_inputs" / "shared.safetensors").string());
  SafetensorsFile per;
  per.put("u", Tensor<double>({2, 1, 1, 2}, {0.5, -0.5, 1, 2}));
  per.write((root / "run_inputs" / "per_network.safetensors").string());

  text(root / "config_json", "defaults.json", "{}");
  text(root / "config_json", "layers.json",
       R"({"dims": [2, 3, 1], "activation": "tanh", "biases": [0, null, "normal"], "tau": 50, "dt": 5,)"
       R"( "weights": ["normal", [[0.5, 0, 1], [0, 1, 0], [1, 1, 1]], "uniform"], "preact_noise": 0.1,)"
       R"( "init_state": "learn", "seed": 9, "ensemble_size": 2})");
  text(root / "config_json", "masks.json",
       R"({"dims": [1, 2, 1], "ei_masks": [null, [[1, 1], [-1, -1]], null], "sparsity_masks": [null, [[1, 0], [1, 1]], null],)"
       R"( "synapse_growth_masks": [null, [[0, 0.5], [0, 0]], null], "plasticity_masks": [[[1, 2]], null, null],)"
       R"( "weights": {"file": "w.safetensors", "tensor": "w"}})");
  text(root / "train_config", "sine.json",
       R"({"task": {"name": "sine"}, "dims": [1, 16, 1], "training": {"steps": 5, "batch_size": 4, "lr": 0.01,)"
       R"( "optimizer": "adam", "betas": [0.9, 0.999], "clip_grad_norm": 1, "data_seed": 3}, "loss": {"lambda_fr": 0.1}})");
  text(root / "train_config", "decision.json",
       R"({"task": {"name": "perceptual_decision", "stimulus_steps": 8, "decision_steps": 4, "fixation_steps": 3},)"
       R"( "activation": "relu", "training": {"optimizer": "sgd", "momentum": 0.9, "weight_decay": 0.01,)"
       R"( "checkpoint_every": 0, "eval_batch_size": 16, "log_interval_s": 1}})");
  text(root / "train_config", "delayed_match.json", R"({"task": {"name": "delayed_match"}, "seed": 4, "ensemble_size": 3})");
  text(root / "sweep_spec", "grid_and_draws.json",
       R"({"base": {"task": {"name": "sine"}, "dims": [1, 4, 1], "training": {"steps": 2}},)"
       R"( "space": {"training.lr": [0.01, 0.02], "dims": [[1, 4, 1], [1, 5, 1]], "loss.lambda_fr": {"uniform": [0, 1]},)"
       R"( "tau": {"choice": [50, 100]}, "training.momentum": {"log_uniform": [0.1, 0.9]}},)"
       R"( "samples": 2, "seed": 3, "seeds": 2, "pack_size": 3})");
  text(root / "sweep_spec", "base_file.json", R"({"base": "base.json", "space": {"seed": [1, 2]}})");
  return 0;
}
