#pragma once
// Network configs as JSON, with the seed's parameter names (dims, activation, biases, weights,
// tau, dt, preact_noise, postact_noise, init_state, sparsity_masks, ei_masks, plasticity_masks,
// synapse_growth_masks) plus seed and ensemble_size. Unknown keys are errors.
//
// Per-layer values (biases, weights, masks) are one value for all three layers or a list of
// three. An array is given inline as nested lists, as {"file": "X.safetensors", "tensor":
// "NAME"} (the path relative to `base_dir`), or as {"tensor": "NAME"} naming a tensor of
// `tensors` (the safetensors file whose metadata holds the config, as in checkpoints, or arrays
// handed over beside the JSON). Arrays are pre x post, optionally with a leading E axis.
#include <string>

#include "ctrnn/config.hpp"

namespace ctrnn {

class SafetensorsFile;

// Throws InvalidArgument naming the key (e.g. "biases[2]") for malformed input, and validates
// the result as Config::validate() does. {"tensor": NAME} without `tensors` is refused.
Config config_from_json(const std::string& json_text, const std::string& base_dir = ".",
                        const SafetensorsFile* tensors = nullptr);

// The config as JSON text; arrays are written as {"tensor": "config.<key>[<layer>]"} references
// and stored into `arrays` (the file that will carry the metadata).
std::string config_to_json(const Config& c, SafetensorsFile& arrays);

}  // namespace ctrnn
