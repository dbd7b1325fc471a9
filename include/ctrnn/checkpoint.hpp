#pragma once
// Checkpoints: one safetensors file (readable with Python's safetensors or numpy) holding every
// parameter, mask, h0, the keep state, the optimizer state, the noise stream's position and the
// step count, with the config as JSON metadata and a format version. Written atomically: an
// interrupted save never damages the previous checkpoint.
//
// Tensors (float32, leading E axis): params.<w_in|w_hid|w_out|b_in|b_hid|b_out|h0>,
// optimizer.m.<name>, optimizer.v.<name> (with a trainer), state.kept_v (keep mode, when set),
// config.<key>[<layer>] (arrays of the config, the sparsity masks as grown so far).
// Metadata: format = "ctrnn-checkpoint", format_version, config, forward_calls, mode, and with a
// trainer: step, optimizer, loss_weights; plus whatever `extra` adds (e.g. train_config).
#include <map>
#include <optional>
#include <string>

#include "ctrnn/network.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn {

inline constexpr const char* kCheckpointFormat = "ctrnn-checkpoint";
inline constexpr int kCheckpointVersion = 1;

void save_checkpoint(const std::string& path, const Network& net, const Trainer* trainer = nullptr,
                     const std::map<std::string, std::string>& extra = {});

struct Checkpoint {
  Network network;
  std::optional<TrainerState<float>> trainer_state;  // present when saved with a trainer
  OptimizerConfig optimizer;                         // meaningful with trainer_state
  LossWeights loss_weights;
  std::map<std::string, std::string> metadata;
};

// Refuses a missing, truncated or foreign file, a newer format version, or tensors with wrong
// names, shapes or dtypes, with InvalidArgument("checkpoint", ...) naming the file and problem.
Checkpoint load_checkpoint(const std::string& path, Device device = Device::Auto);

}  // namespace ctrnn
