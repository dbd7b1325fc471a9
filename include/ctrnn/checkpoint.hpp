#pragma once
// Checkpoints: one safetensors file (readable with Python's safetensors or numpy) holding every
// parameter, mask, h0, the keep state, the optimizer state, the noise stream's position and the
// step count, with the config as JSON metadata and a format version. Written atomically: an
// interrupted save never damages the previous checkpoint.
//
// Tensors (float32, leading E axis): params.<w_in|w_hid|w_out|b_in|b_hid|b_out|h0>,
// optimizer.m.<name>, optimizer.v.<name> (with a trainer), state.kept_v (keep mode, when set),
// config.<key>[<layer>] (arrays of the config, the sparsity masks as grown so far).
// Metadata: format = "ctrnn-checkpoint", format_version, config, forward_calls, mode, computed_on
// (the device description: backend, BLAS and thread count), and with a trainer: step, optimizer,
// loss_weights, diverged (one flag 0 or 1 per network, TrainerState::diverged); plus whatever
// `extra` adds (e.g. train_config).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn {

inline constexpr const char* kCheckpointFormat = "ctrnn-checkpoint";
inline constexpr int kCheckpointVersion = 1;

// Throws StateError, writing nothing, when a parameter, the kept state or the optimizer state
// holds NaN or Inf (such a file would not load, and it would replace the last good one).
void save_checkpoint(const std::string& path, const Network& net, const Trainer* trainer = nullptr,
                     const std::map<std::string, std::string>& extra = {});

struct Checkpoint {
  Network network;
  std::optional<TrainerState<float>> trainer_state;  // present when saved with a trainer
  OptimizerConfig optimizer;                         // meaningful with trainer_state
  LossWeights loss_weights;
  std::map<std::string, std::string> metadata;
  // What the caller should tell the user: e.g. the file was computed on another device or with
  // another thread count, so training on from it is not bit for bit an uninterrupted run.
  std::vector<std::string> warnings;

  // A metadata value written as a decimal integer (e.g. "eval_batch_size" of `ctrnn train`):
  // `fallback` when absent; throws InvalidArgument("checkpoint") naming the key unless it is
  // digits only, within 64 bits and >= min.
  uint64_t metadata_unsigned(const std::string& key, uint64_t fallback, uint64_t min = 0) const;
};

// Refuses a missing, truncated or foreign file, a newer format version, tensors with wrong
// names, shapes or dtypes, NaN or Inf, or metadata that is not exactly what save_checkpoint
// writes (mode 'train' or 'eval', digits-only counts, ...), with InvalidArgument("checkpoint", ...)
// naming the file and the problem.
Checkpoint load_checkpoint(const std::string& path, Device device = Device::Auto);

}  // namespace ctrnn
