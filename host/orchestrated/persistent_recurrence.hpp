#pragma once
// The hook of the persistent kernels (kernels/persistent_*.hpp) into OrchestratedBackend: two
// calls through the primitives type P, overloaded per P.
//   plan_for(P&, options, E, B, H)   the path and geometry for this call (recurrence_plan.hpp);
//                                    throws InvalidArgument for a forced path P cannot run, before
//                                    the backend changes anything
//   run_persistent(P&, plan, E, kernel)  runs a persistent kernel (its geometry set from plan)
//                                    over the whole grid of (network, batch tile) clusters
// CudaPrims: the device kernels (host/cuda/persistent.cu), planned with the device's limits.
// HostPrims: the host emulator (cluster_emulator.hpp), planned as on an H100/H200, only when a
//   persistent path is forced (emulation is slow); Auto runs the sequence.
// Any other P (BlasHostPrims, test variants derived from HostPrims): the sequence only.
#include <cstdint>

#include "ctrnn/error.hpp"
#include "kernels/persistent_backward.hpp"
#include "kernels/persistent_forward.hpp"
#include "orchestrated/cluster_emulator.hpp"
#include "orchestrated/host_primitives.hpp"
#include "orchestrated/recurrence_plan.hpp"

namespace ctrnn::detail {

template <class P>
RecurrencePlan plan_for(P&, const RecurrenceOptions& o, int64_t, int64_t, int64_t) {
  if (o.path == RecurrencePath::PersistentCta || o.path == RecurrencePath::PersistentCluster)
    throw InvalidArgument("recurrence path", "auto or sequence on a backend without persistent kernels",
                          to_string(o.path));
  RecurrencePlan plan;
  plan.reason = "no persistent kernels on this backend";
  return plan;
}

template <class P, class Kernel>
void run_persistent(P&, const RecurrencePlan&, int64_t, const Kernel&) {
  throw StateError("ctrnn: run_persistent on a backend without persistent kernels");  // plan_for never plans one
}

inline RecurrencePlan plan_for(HostPrims&, const RecurrenceOptions& o, int64_t E, int64_t B, int64_t H) {
  if (o.path == RecurrencePath::Auto) {
    RecurrencePlan plan;
    plan.reason = "host: the persistent kernels are emulated only when forced";
    return plan;
  }
  return plan_recurrence(E, B, H, DeviceLimits::hopper(), o);
}

template <class Kernel>
void run_persistent(HostPrims&, const RecurrencePlan& plan, int64_t E, Kernel kernel) {
  kernel.geometry = plan.geometry;
  emulate_clusters(kernel, plan.geometry.clusters_total(E));
}

class CudaPrims;
RecurrencePlan plan_for(CudaPrims& prims, const RecurrenceOptions& o, int64_t E, int64_t B, int64_t H);
void run_persistent(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, kernels::PersistentForward kernel);
void run_persistent(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, kernels::PersistentBackward kernel);
// The plan's kernel with its barriers only, T steps (benchmarks: the floor under a step's time).
void run_barrier_floor(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, int64_t T);

}  // namespace ctrnn::detail
