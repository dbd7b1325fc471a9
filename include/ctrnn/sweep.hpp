#pragma once
// Sweeps: a base training config, a search space and a number of seeds per point, planned into
// packs (ensembles whose networks differ only in per-network values, per_network_keys()), each
// pack one resumable training run (training_run.hpp) in DIR/packs/NNN/, and one table of results.
// The spec's schema, the folder and the results' columns: docs/contract.md "Sweeps".
//
// SWEEP.json:
//   {"base": {config} | "config.json",          // relative to the spec's folder
//    "space": {"training.lr": [0.001, 0.01],    // a grid: one point per value
//              "loss.lambda_fr": {"log_uniform": [1e-4, 1e-2]},  // drawn: also "uniform", "choice"
//              "dims": [[3, 16, 2], [3, 32, 2]]},
//    "samples": 4,      // draws of the drawn parameters per grid point (default 1)
//    "seed": 0,         // the draws' seed (default 0)
//    "seeds": 3,        // networks per point (default 1)
//    "pack_size": 64}   // networks per pack at most (default 64)
// Parameters are config keys as dotted paths ("tau", "training.lr", "task.stimulus_steps").
#include <cstdint>
#include <string>
#include <vector>

namespace ctrnn {

// One network of a sweep.
struct SweepNetwork {
  int64_t index = 0;          // its global index: it draws its weights and noise as network `index`
  int64_t point = 0;          // the point of the space (grid combination x draw), in plan order
  int64_t seed = 0;           // which of the point's `seeds` networks (0 .. seeds - 1)
  int64_t pack = 0;           // its pack
  int64_t index_in_pack = 0;  // its network in the pack's ensemble
  // The space's values at its point: (parameter, value as JSON text), in the spec's order.
  std::vector<std::pair<std::string, std::string>> values;
};

struct SweepPack {
  int64_t index = 0;
  std::string dir;          // DIR/packs/NNN
  std::string config_text;  // a full training config: ensemble_size, first_network, per-network lists
  std::vector<SweepNetwork> networks;
};

struct SweepPlan {
  std::string dir;
  std::vector<std::string> parameters;  // the space's parameters, in the spec's order
  std::vector<SweepPack> packs;
  int64_t networks = 0;
};

// The lock of a sweep folder, held by the process that runs its packs (`ctrnn sweep`,
// ctrnn.sweep.run) while it runs them: an exclusive flock on DIR/.ctrnn.lock, so that a second
// sweep into the same folder is refused instead of running the same packs at once. plan_sweep
// takes it (see there); the system releases it if the holder dies.
class SweepFolderLock {
 public:
  SweepFolderLock() = default;  // not holding any
  ~SweepFolderLock();
  SweepFolderLock(const SweepFolderLock&) = delete;
  SweepFolderLock& operator=(const SweepFolderLock&) = delete;
  // Takes the lock of `out` (created when missing). Throws InvalidArgument("--out") naming the
  // folder when another process holds it or it cannot be made.
  void acquire(const std::string& out);
  void release();  // lets it go (the destructor does too)

 private:
  int fd_ = -1;
};

// Parses and checks the spec (text; `base_dir` the folder its relative paths are relative to),
// plans it, checks that every pack's config loads, then creates `out` with sweep.json and
// packs/NNN/config.json, or checks that `out` holds this same sweep. Throws InvalidArgument
// naming the spec's key (e.g. "space.training.lr") for a bad spec, or "--out" naming the first
// difference for a folder that holds another sweep, before anything is written. `lock`, when
// given, takes the folder's lock once the spec is checked, before the folder is made or read.
SweepPlan plan_sweep(const std::string& spec_text, const std::string& base_dir, const std::string& out,
                     SweepFolderLock* lock = nullptr);
// The plan of a folder made by plan_sweep (its sweep.json).
SweepPlan load_sweep(const std::string& out);

// A pack's outcome when it did not finish: DIR/packs/NNN/outcome.txt holds one line,
// "diverged: MESSAGE" (every network diverged) or "failed: MESSAGE". Written by the runner,
// removed when the pack starts again.
void record_pack_outcome(const std::string& pack_dir, const std::string& status, const std::string& message);
void clear_pack_outcome(const std::string& pack_dir);

// One row of results.csv.
struct SweepResult {
  SweepNetwork network;
  int64_t steps = 0;      // steps done (its pack's checkpoint)
  int64_t steps_total = 0;
  double final_loss = 0;  // training loss of its last step (NaN when none)
  double val_loss = 0, val_accuracy = 0;  // final evaluation in eval mode (NaN when none)
  std::string status;     // done, diverged, failed, pending
};

// Reads each pack's checkpoint (and outcome.txt), evaluates finished packs as `ctrnn train` does
// at its end, writes DIR/results.csv (atomically) and returns its rows.
std::vector<SweepResult> collect_sweep(const std::string& out);

// Network `network` of a checkpoint written by a training run, as a one-network checkpoint at
// `out`: its parameters, optimizer state and values, first_network = its global index, and a
// stored train_config that trains it alone with `ctrnn train` (scalar values). Refuses an
// existing `out` unless `overwrite`.
void extract_network(const std::string& checkpoint, int64_t network, const std::string& out, bool overwrite);

}  // namespace ctrnn
