// The persistent recurrence kernels on the device: the phases of persistent_forward.hpp and
// persistent_backward.hpp between cluster barriers (cluster.sync(); __syncthreads() on one CTA),
// each CTA's peers' shared memory through cluster.map_shared_rank (distributed shared memory);
// their launch (cudaLaunchKernelEx with the cluster dimension) and the device side of the
// dispatcher (host/orchestrated/persistent_recurrence.hpp): the device's limits and whether it can
// schedule a planned cluster at all.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>

#include "ctrnn/error.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/cuda_primitives.hpp"
#include "cuda/device_guard.hpp"
#include "kernels/persistent_backward.hpp"
#include "kernels/persistent_forward.hpp"
#include "orchestrated/persistent_recurrence.hpp"

namespace ctrnn::kernels {

namespace cg = cooperative_groups;

// The `cta` of the phase functions on the device.
template <bool kCluster>
struct DeviceCta {
  float* smem;
  __device__ int rank() const {
    if constexpr (kCluster)
      return int(cg::this_cluster().block_rank());
    else
      return 0;
  }
  // This CTA's own shared memory through the kernel's __shared__ array: the loads compile to
  // ld.shared. Through map_shared_rank (below) even the own rank's address is a generic one,
  // whose loads are generic (issue 24, defect 3; checked by check_shared_loads.sh).
  __device__ float* local() const { return smem; }
  __device__ float* shared(int rank) const {
    if constexpr (kCluster)
      return cg::this_cluster().map_shared_rank(smem, rank);
    else
      return smem;
  }
  // Orders every shared-memory write of the phase (local and distributed) before every read of
  // the next phase, in all CTAs of the cluster (barrier.cluster arrive.release / wait.acquire).
  __device__ void cluster_barrier() const {
    if constexpr (kCluster)
      cg::this_cluster().sync();
    else
      __syncthreads();
  }
};

// One cluster (or CTA) per (network, batch tile), clusters consecutive in x. The cluster barrier
// after the last phase also keeps every CTA alive until its peers' last writes into it have landed.
template <class Kernel, bool kCluster>
__global__ void persistent_kernel(Kernel kernel) {
  extern __shared__ float smem[];
  const DeviceCta<kCluster> cta{smem};
  const int64_t cluster_index = int64_t(blockIdx.x) / kernel.geometry.cluster;
  const int64_t phases = kernel.phases();
  for (int64_t phase = 0; phase < phases; ++phase) {
    kernel.run_phase(phase, cluster_index, cta, int(threadIdx.x));
    if (kernel.barrier_after(phase) == Barrier::Cluster)
      cta.cluster_barrier();
    else
      __syncthreads();
  }
}

// The persistent kernels' barriers without their work (same geometry, shared memory and phase
// count as a forward of T steps): the floor under their time per step, for the benchmarks.
struct BarrierFloor {
  int64_t T;
  PersistentGeometry geometry;
  __host__ __device__ int64_t phases() const { return 1 + 2 * T; }
  __host__ __device__ int64_t shared_floats() const { return geometry.floats(); }
  __host__ __device__ Barrier barrier_after(int64_t phase) const { return loop_barrier_after(phase, T); }
  template <class Cta>
  __device__ void run_phase(int64_t, int64_t, const Cta&, int) const {}
};

}  // namespace ctrnn::kernels

namespace ctrnn::detail {

namespace {

DeviceLimits device_limits(int device) {
  int shared = 0, sms = 0, cluster_launch = 0;
  CTRNN_CUDA_CHECK(cudaDeviceGetAttribute(&shared, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  CTRNN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  CTRNN_CUDA_CHECK(cudaDeviceGetAttribute(&cluster_launch, cudaDevAttrClusterLaunch, device));
  // kMaxClusterSize with the non-portable attribute (set in prepare()); whether a planned size schedules is
  // asked of the occupancy API in plan_for.
  return {shared, sms, cluster_launch ? kMaxClusterSize : 1};
}

// The kernel attributes every plan needs, set before any launch (and before a graph capture,
// so that launches only launch): the device's whole opt-in shared memory, whatever a plan uses,
// and cluster sizes above the portable 8.
template <class Kernel>
void prepare(const DeviceLimits& d) {
  CTRNN_CUDA_CHECK(cudaFuncSetAttribute(kernels::persistent_kernel<Kernel, false>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, int(d.shared_bytes_per_cta)));
  if (d.max_cluster == 1) return;
  CTRNN_CUDA_CHECK(cudaFuncSetAttribute(kernels::persistent_kernel<Kernel, true>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, int(d.shared_bytes_per_cta)));
  CTRNN_CUDA_CHECK(cudaFuncSetAttribute(kernels::persistent_kernel<Kernel, true>,
                                        cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
}

// The launch configuration of `kernel` over the grid of plan for E networks.
struct Launch {
  cudaLaunchConfig_t config = {};
  cudaLaunchAttribute cluster_dim[1] = {};
};

template <class Kernel>
void configure(Launch& l, const Kernel& kernel, int64_t E, cudaStream_t stream) {
  const kernels::PersistentGeometry& g = kernel.geometry;
  const int64_t blocks = g.clusters_total(E) * g.cluster;
  if (blocks > int64_t(0x7fffffff))
    throw InvalidArgument("ensemble and batch", "at most 2^31 - 1 persistent CTAs", std::to_string(blocks));
  l.config.gridDim = dim3(unsigned(blocks), 1, 1);
  l.config.blockDim = dim3(unsigned(g.threads), 1, 1);
  l.config.dynamicSmemBytes = size_t(kernel.shared_floats()) * sizeof(float);
  l.config.stream = stream;
  if (g.cluster > 1) {
    l.cluster_dim[0].id = cudaLaunchAttributeClusterDimension;
    l.cluster_dim[0].val.clusterDim.x = unsigned(g.cluster);
    l.cluster_dim[0].val.clusterDim.y = 1;
    l.cluster_dim[0].val.clusterDim.z = 1;
    l.config.attrs = l.cluster_dim;
    l.config.numAttrs = 1;
  }
}

// How many clusters (CTAs when cluster == 1) of the kernel the device can run at once: 0 when a
// single one does not fit (registers, shared memory with the driver's reserve, cluster size).
template <class Kernel>
int schedulable(Kernel kernel, const RecurrencePlan& plan) {
  kernel.geometry = plan.geometry;
  Launch l;
  configure(l, kernel, 1, nullptr);
  const int cluster = plan.geometry.cluster;
  int n = 0;
  if (cluster > 1) {
    if (cudaOccupancyMaxActiveClusters(&n, kernels::persistent_kernel<Kernel, true>, &l.config) != cudaSuccess) {
      (void)cudaGetLastError();  // "cannot" is an answer here, not an error
      return 0;
    }
  } else {
    CTRNN_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernels::persistent_kernel<Kernel, false>,
                                                                    int(l.config.blockDim.x), l.config.dynamicSmemBytes));
  }
  return n;
}

template <class Kernel>
void launch(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, Kernel kernel) {
  kernel.geometry = plan.geometry;
  Launch l;
  configure(l, kernel, E, prims.stream());
  if (plan.geometry.cluster > 1)
    CTRNN_CUDA_CHECK(cudaLaunchKernelEx(&l.config, kernels::persistent_kernel<Kernel, true>, kernel));
  else
    CTRNN_CUDA_CHECK(cudaLaunchKernelEx(&l.config, kernels::persistent_kernel<Kernel, false>, kernel));
  CTRNN_CUDA_CHECK_LAUNCH(plan.geometry.cluster > 1 ? "persistent recurrence kernel (cluster)"
                                                    : "persistent recurrence kernel (cta)",
                          prims.stream());
}

// The plan without the cache: the table with this device's limits, checked against what the
// device can schedule.
RecurrencePlan plan_uncached(int device, const RecurrenceOptions& o, int64_t E, int64_t B, int64_t H) {
  const DeviceLimits d = device_limits(device);
  RecurrencePlan plan = plan_recurrence(E, B, H, d, o);
  if (plan.path == RecurrencePath::Sequence) return plan;
  prepare<kernels::PersistentForward>(d);
  prepare<kernels::PersistentBackward>(d);
  const int per_unit = std::min(schedulable(kernels::PersistentForward{}, plan),
                                schedulable(kernels::PersistentBackward{}, plan));
  RecurrencePlan sequence;
  if (per_unit > 0) {
    // Auto also wants every cluster resident at once: clusters do not wait for each other, but a
    // second wave doubles the loop's time (measured on an H200: (E, B, H) = (1, 64, 512), 16
    // clusters of 8 where 15 fit, 1.6x the sequence's time; docs/gpu-dispatch.md).
    const int64_t at_once = int64_t(per_unit) * (plan.geometry.cluster > 1 ? 1 : d.sms);
    const int64_t clusters = plan.geometry.clusters_total(E);
    if (o.path != RecurrencePath::Auto || clusters <= at_once) return plan;
    sequence.reason = std::to_string(clusters) + " " + (plan.geometry.cluster > 1 ? "clusters" : "CTAs") +
                      " of the " + to_string(plan.path) + " plan, the device runs at most " +
                      std::to_string(at_once) + " at once";
    return sequence;
  }
  const std::string why = "the device cannot schedule one " + to_string(plan.path) + " of " +
                          std::to_string(plan.geometry.cluster) + " CTAs with " + std::to_string(plan.shared_bytes) +
                          " bytes of shared memory each";
  if (o.path != RecurrencePath::Auto) throw InvalidArgument("recurrence path", "a path this device can run", why);
  sequence.reason = why;
  return sequence;
}

}  // namespace

// Planned once per (device, sizes, options): the attribute calls and occupancy queries cost tens
// of microseconds, a forward of a few hundred steps not much more. Refusals are not cached.
// The backend's device, not the thread's current one (the backend's calls make it current, and
// the cache key must name it in any case).
RecurrencePlan plan_for(CudaPrims& prims, const RecurrenceOptions& o, int64_t E, int64_t B, int64_t H) {
  const int device = prims.device_index();
  const cuda::DeviceGuard on_device(device);  // cudaFuncSetAttribute and the occupancy queries act on it
  const auto key = std::make_tuple(device, E, B, H, int(o.path), o.cluster_size, o.batch_tile, o.threads);
  static std::mutex mutex;
  static std::map<std::decay_t<decltype(key)>, RecurrencePlan> cache;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  RecurrencePlan plan = plan_uncached(device, o, E, B, H);
  const std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(key, std::move(plan)).first->second;
}

void run_persistent(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, kernels::PersistentForward kernel) {
  launch(prims, plan, E, kernel);
}

void run_persistent(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, kernels::PersistentBackward kernel) {
  launch(prims, plan, E, kernel);
}

void run_barrier_floor(CudaPrims& prims, const RecurrencePlan& plan, int64_t E, int64_t T) {
  if (plan.path == RecurrencePath::Sequence) return;
  const cuda::DeviceGuard on_device(prims.device_index());
  prepare<kernels::BarrierFloor>(device_limits(prims.device_index()));
  launch(prims, plan, E, kernels::BarrierFloor{T, {}});
}

}  // namespace ctrnn::detail
