#pragma once
// Which code runs the time loops of forward and BPTT: the persistent kernels on one CTA or on a
// thread-block cluster (kernels/persistent_*.hpp), or the existing sequence (per step one
// recurrent GEMM and one fused kernel). The dispatcher's rules, the table they give on an H200
// and the shared-memory arithmetic are in docs/gpu-dispatch.md; plan_recurrence is their one
// statement in code. Pure host code: CI checks the table.
#include <cstdint>
#include <string>

#include "kernels/persistent_geometry.hpp"

namespace ctrnn::detail {

enum class RecurrencePath {
  Auto,               // the dispatcher's choice
  Sequence,           // recurrent GEMM + fused step kernel per step
  PersistentCta,      // one persistent CTA per (network, batch tile)
  PersistentCluster,  // one persistent cluster of CTAs per (network, batch tile)
};

std::string to_string(RecurrencePath p);  // "auto", "sequence", "cta", "cluster"
RecurrencePath parse_recurrence_path(const std::string& name);  // throws InvalidArgument("recurrence path")

// Forces a path or a geometry (tests, benchmarks); zeros leave the choice to the dispatcher.
struct RecurrenceOptions {
  RecurrencePath path = RecurrencePath::Auto;
  int cluster_size = 0;    // CTAs per cluster (PersistentCluster)
  int64_t batch_tile = 0;  // batch rows per cluster
  int threads = 0;         // threads per CTA
};

// The largest thread-block cluster of any device (Hopper's non-portable size).
constexpr int kMaxClusterSize = 16;

// What the device allows (read from cudaGetDeviceProperties on a GPU).
struct DeviceLimits {
  int64_t shared_bytes_per_cta = 0;  // opt-in maximum of dynamic shared memory per block
  int sms = 1;
  int max_cluster = 1;  // largest cluster that launches (1: no clusters)

  // An H200 / H100 SXM: 227 KB per block, 132 SMs, clusters of 16 (non-portable). The host
  // emulation plans with these.
  static DeviceLimits hopper() { return {227 * 1024, 132, kMaxClusterSize}; }
};

constexpr int kPersistentThreads = 256;  // threads per CTA unless forced
constexpr int64_t kMinTileRows = kernels::kTileRows;  // smallest tile the dispatcher picks (if B allows)
constexpr int64_t kMinSlice = 32;  // narrowest slice of columns per CTA the dispatcher picks by itself
// Bounds on a plan's PersistentGeometry::k_steps_per_thread() that the dispatcher keeps (measured
// on an H200, docs/gpu-dispatch.md): one CTA, when its steps are this short, beats any cluster
// (the cluster's barrier and exchange cost more than the split saves); past the most, the
// sequence's GEMM per step beats every persistent kernel.
constexpr int64_t kCtaMaxKSteps = 16;
constexpr int64_t kPersistentMaxKSteps = 192;

struct RecurrencePlan {
  RecurrencePath path = RecurrencePath::Sequence;  // never Auto
  kernels::PersistentGeometry geometry;            // meaningful for the persistent paths
  int64_t shared_bytes = 0;                        // per CTA
  std::string reason;                              // why this path (for logs and errors)
};

// The plan for E networks of batch B and state size H. A forced persistent path that cannot run
// (too large for the shared memory, cluster size beyond the device's) throws InvalidArgument
// naming the option; Auto falls back to Sequence instead.
RecurrencePlan plan_recurrence(int64_t E, int64_t B, int64_t H, const DeviceLimits& d, const RecurrenceOptions& o);

}  // namespace ctrnn::detail
