#pragma once
// What a training run's checkpoint records about the run, so that `train --resume CHECKPOINT`
// can continue it from the checkpoint alone and refuse to mix it with different settings.
//
// The run's identity is every setting that changes the network, the optimizer or the data:
// the network config (arrays by shape and hash), the task (a data file by its contents),
// batch_size, data_seed, the optimizer settings and the loss weights. What may change on
// resume: steps, the logging settings (log_interval_s, log_every), checkpoint_every,
// eval_batch_size, the validation data and the output folder.
#include <string>
#include <utility>
#include <vector>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/train_config.hpp"

namespace ctrnn::detail {

using RunFields = std::vector<std::pair<std::string, std::string>>;  // (field, value) in a fixed order

// The identity of the run `tc` describes (tc.make_task() must be `task`).
RunFields run_identity(const TrainConfig& tc, const Task& task);

// The checkpoint metadata entry "run": the run's identity (a resumed run keeps the one it was
// started with) plus the task, training and loss sections needed to continue without the
// config file.
inline constexpr const char* kRunMetadataKey = "run";
std::string run_metadata(const RunFields& identity, const TrainConfig& tc);

// The run of a checkpoint written by `ctrnn train` as config JSON text: the network's dims and
// seed with the stored task, training and loss sections (the network itself comes from the
// checkpoint). Throws InvalidArgument("--resume") for a checkpoint without a run record or
// training state.
std::string stored_run_config(const Checkpoint& ck);
RunFields stored_identity(const Checkpoint& ck);

// Throws InvalidArgument("--resume") naming the first field of `current` whose value differs
// from the stored run's, or, when `current` holds the network's fields, a network field of the
// stored run that `current` lacks (a key written only when not at its default). Other fields
// missing from `current` are not compared.
void check_same_run(const RunFields& stored, const RunFields& current, const std::string& what_differs);

}  // namespace ctrnn::detail
