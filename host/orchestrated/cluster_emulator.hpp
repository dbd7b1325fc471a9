#pragma once
// Runs a persistent kernel (kernels/persistent_*.hpp) on the host, with each CTA's shared memory
// a host array (NaN at the start, so a read of an element no phase wrote shows in the results).
// A kernel's phases fall into segments, each ending at a cluster barrier; inside a segment only
// CTA barriers separate the phases. The emulator runs, for each cluster and each segment, CTA by
// CTA: every phase of the segment, each for every thread of that CTA before the next phase. That
// is one schedule the device allows; the order of the CTAs and of the threads is a parameter, and
// results that differ between orders mean that a thread reads what another thread writes with no
// barrier between them (a race on the device), which the tests check for. This checks the index
// arithmetic, the slicing, the exchange protocol and the barrier placement on every commit; what
// it cannot check is the hardware (memory-model corner cases, occupancy, speed). Clusters run one
// after the other, in the order the thread order says: they share only device memory, where the
// backward kernel's last tile of a network adds up all tiles' sums whichever tile comes last.
//
// A kernel K provides: phases(), shared_floats(), barrier_after(phase) (kernels::Barrier), geometry
// (kernels::PersistentGeometry: cluster, threads) and run_phase(phase, cluster_index, cta,
// thread), where cta has rank() and shared(rank) (this CTA's and its peers' shared memory, as
// cluster.map_shared_rank gives it on the device).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/persistent_geometry.hpp"

namespace ctrnn::detail {

// One CTA of an emulated cluster.
class EmulatedCta {
 public:
  EmulatedCta(int rank, std::vector<std::vector<float>>& shared) : rank_(rank), shared_(&shared) {}
  int rank() const { return rank_; }
  float* shared(int rank) const { return (*shared_)[size_t(rank)].data(); }

 private:
  int rank_;
  std::vector<std::vector<float>>* shared_;
};

enum class ThreadOrder {
  Ascending,   // cluster by cluster, CTA by CTA, thread by thread
  Descending,  // the reverse
  Shuffled,    // a random order of the clusters, and a fresh one of the CTAs in every segment and
               // of the threads in every phase
};

// Every cluster of the kernel's grid, one after the other.
template <class Kernel>
void emulate_clusters(const Kernel& kernel, int64_t clusters, ThreadOrder order = ThreadOrder::Ascending,
                      uint64_t shuffle_seed = 0) {
  const int C = kernel.geometry.cluster, threads = kernel.geometry.threads;
  std::vector<int> ranks(static_cast<size_t>(C)), thread_ids(static_cast<size_t>(threads));
  std::vector<int64_t> cluster_ids(static_cast<size_t>(clusters));
  for (int64_t i = 0; i < clusters; ++i) cluster_ids[size_t(i)] = order == ThreadOrder::Descending ? clusters - 1 - i : i;
  for (int i = 0; i < C; ++i) ranks[size_t(i)] = order == ThreadOrder::Descending ? C - 1 - i : i;
  for (int i = 0; i < threads; ++i) thread_ids[size_t(i)] = order == ThreadOrder::Descending ? threads - 1 - i : i;
  std::mt19937_64 rng(shuffle_seed);
  if (order == ThreadOrder::Shuffled) std::shuffle(cluster_ids.begin(), cluster_ids.end(), rng);
  std::vector<std::vector<float>> shared(static_cast<size_t>(C));
  const int64_t phases = kernel.phases();
  for (int64_t cluster : cluster_ids) {
    for (auto& s : shared) s.assign(size_t(kernel.shared_floats()), std::numeric_limits<float>::quiet_NaN());
    for (int64_t first = 0; first < phases;) {
      int64_t last = first;  // the segment [first, last] ends at a cluster barrier
      while (last + 1 < phases && kernel.barrier_after(last) == kernels::Barrier::Cta) ++last;
      if (order == ThreadOrder::Shuffled) std::shuffle(ranks.begin(), ranks.end(), rng);
      for (int rank : ranks)
        for (int64_t phase = first; phase <= last; ++phase) {
          if (order == ThreadOrder::Shuffled) std::shuffle(thread_ids.begin(), thread_ids.end(), rng);
          for (int t : thread_ids) kernel.run_phase(phase, cluster, EmulatedCta(rank, shared), t);
        }
      first = last + 1;
    }
  }
}

}  // namespace ctrnn::detail
