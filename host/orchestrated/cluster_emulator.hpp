#pragma once
// Runs a persistent kernel (kernels/persistent_*.hpp) on the host: for each cluster, each phase
// for every thread of every CTA in turn, then the next phase, with each CTA's shared memory a host
// array. A phase boundary is the cluster barrier. This checks the index arithmetic, the slicing
// and the exchange protocol on every commit; what it cannot check is the hardware's scheduling
// inside a phase, except that the order in which the emulator runs the threads is a parameter:
// results that differ between orders mean that a thread of a phase reads what another thread of
// the same phase writes (a race on the device), which the tests check for.
//
// A kernel K provides: phases(), shared_floats(), geometry (kernels::PersistentGeometry) and
// run_phase(phase, cluster_index, cta, thread), where cta has rank() and shared(rank) (this CTA's
// and its peers' shared memory, as cluster.map_shared_rank gives it on the device).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

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
  Ascending,   // rank by rank, thread by thread
  Descending,  // the reverse
  Shuffled,    // a fresh random permutation of all (rank, thread) pairs in every phase
};

// Every cluster of the kernel's grid, one after the other (clusters share nothing). Shared memory
// starts NaN, so a read of an element no phase wrote shows in the results.
template <class Kernel>
void emulate_clusters(const Kernel& kernel, int64_t clusters, ThreadOrder order = ThreadOrder::Ascending,
                      uint64_t shuffle_seed = 0) {
  const int C = kernel.geometry.cluster, threads = kernel.geometry.threads;
  std::vector<std::pair<int, int>> who;  // (rank, thread) in the order they run
  for (int rank = 0; rank < C; ++rank)
    for (int t = 0; t < threads; ++t) who.emplace_back(rank, t);
  if (order == ThreadOrder::Descending) std::reverse(who.begin(), who.end());
  std::mt19937_64 rng(shuffle_seed);
  std::vector<std::vector<float>> shared(static_cast<size_t>(C));
  for (int64_t cluster = 0; cluster < clusters; ++cluster) {
    for (auto& s : shared) s.assign(size_t(kernel.shared_floats()), std::numeric_limits<float>::quiet_NaN());
    for (int64_t phase = 0; phase < kernel.phases(); ++phase) {
      if (order == ThreadOrder::Shuffled) std::shuffle(who.begin(), who.end(), rng);
      for (const auto& [rank, t] : who) kernel.run_phase(phase, cluster, EmulatedCta(rank, shared), t);
    }
  }
}

}  // namespace ctrnn::detail
