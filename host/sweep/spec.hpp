#pragma once
// SWEEP.json parsed, checked and planned into packs, without touching the sweep's folder.
#include <nlohmann/json.hpp>
#include <string>

#include "ctrnn/sweep.hpp"

namespace ctrnn::detail {

// The normalized spec: the base config inline (its paths made absolute), every default filled
// in; two specs describe the same sweep exactly when these are equal.
struct SweepSpec {
  nlohmann::json normalized;
  SweepPlan plan;  // dir and pack dirs relative to the sweep folder ("packs/000")
};

// Throws InvalidArgument naming the spec's key for every bad spec (docs/contract.md "Sweeps"),
// including a pack whose config does not load.
SweepSpec parse_sweep_spec(const std::string& spec_text, const std::string& base_dir);

// The pack folder's name under the sweep folder: "packs/007".
std::string pack_folder(int64_t pack);

}  // namespace ctrnn::detail
