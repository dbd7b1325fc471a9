#pragma once
// Runs a persistent kernel (kernels/persistent_*.hpp) on the host, one thread's phase at a time,
// with each CTA's shared memory a host array (NaN at the start, so a read of an element no phase
// wrote shows in the results). The schedule is a parameter; every schedule is one the device
// allows, and results that differ between schedules mean a race on the device. This checks the
// index arithmetic, the slicing, the exchange protocol and the barrier placement on every commit;
// what it cannot check is the hardware (memory-model corner cases, occupancy, speed).
//
// Inside a cluster. A kernel's phases fall into segments, each ending at a cluster barrier;
// inside a segment only CTA barriers separate the phases. A cluster runs segment by segment, and
// in a segment either CTA by CTA (every phase of the segment for one CTA, then the next CTA: a
// CTA that reads a peer's shared memory without a cluster barrier in between reads NaN) or phase
// by phase (every CTA through a phase before any starts the next). Inside a phase the threads
// run in ThreadOrder; a thread that reads what another writes in the same phase gives results
// that depend on it.
//
// Between clusters. Clusters share only device memory: the backward kernel's per-tile sums and
// the arrival counts by which the last tile of a network to arrive adds them up. On the device
// they run at once, each at its own pace; ClusterInterleaving chooses how their threads' phases
// interleave here (issue 24, defect 6: clusters run one after another to completion cannot show
// a protocol in which the wrong tile adds the sums, as every tile then finds the count left at 0
// by the one before it):
//   OneAfterAnother  each cluster to its end before the next begins
//   Lockstep         every cluster through a phase before any begins the next: all tiles reach
//                    every barrier, the store of their sums and their arrival before any goes on
//   Random           one thread's phase at a time, of a cluster drawn at random each time
//   Preempted        one cluster (seed % clusters) runs alone up to the last thread of phase
//                    pause_phase, then every other cluster runs to its end (lockstep), then it
//                    finishes: a tile stalled at any point while all others overtake it. A
//                    protocol in which the first tile to arrive adds the tiles' sums fails under
//                    it (with the stall in the adding phase, the last thread not the one that
//                    resets the count): the stalled tile's other threads read sums not yet stored
//                    and nothing overwrites what they wrote (test_persistent_emulated). Random
//                    interleaving seldom makes one tile that much slower than the others.
// The cluster order of OneAfterAnother and Lockstep follows ThreadOrder (ascending, descending,
// or a fresh shuffle for each phase).
//
// A kernel K provides: phases(), shared_floats(), barrier_after(phase) (kernels::Barrier), geometry
// (kernels::PersistentGeometry: cluster, threads) and run_phase(phase, cluster_index, cta,
// thread), where cta has rank(), local() (this CTA's shared memory, as the kernel's own
// __shared__ array gives it on the device) and shared(rank) (this CTA's and its peers', as
// cluster.map_shared_rank gives it).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "kernels/persistent_geometry.hpp"

namespace ctrnn::detail {

// One CTA of an emulated cluster.
class EmulatedCta {
 public:
  EmulatedCta(int rank, std::vector<std::vector<float>>& shared) : rank_(rank), shared_(&shared) {}
  int rank() const { return rank_; }
  float* local() const { return shared(rank_); }
  float* shared(int rank) const { return (*shared_)[size_t(rank)].data(); }

 private:
  int rank_;
  std::vector<std::vector<float>>* shared_;
};

enum class ThreadOrder {
  Ascending,   // cluster by cluster, CTA by CTA, thread by thread
  Descending,  // the reverse
  Shuffled,    // a fresh random order of the CTAs in every segment and of the threads in every
               // phase (and of the clusters, see above)
};

enum class ClusterInterleaving { OneAfterAnother, Lockstep, Random, Preempted };

struct EmulatorSchedule {
  ThreadOrder threads = ThreadOrder::Ascending;
  ClusterInterleaving clusters = ClusterInterleaving::Lockstep;
  uint64_t seed = 0;         // of the shuffles and random draws; Preempted: the stalled cluster
  int64_t pause_phase = 0;  // Preempted: the phase in which that cluster stalls
};

// One cluster's run, one thread's phase per step().
template <class Kernel>
class EmulatedCluster {
 public:
  // phase_major: in a segment, every CTA through a phase before the next phase (else CTA by CTA).
  EmulatedCluster(const Kernel& kernel, int64_t index, ThreadOrder order, bool phase_major, std::mt19937_64& rng)
      : kernel_(&kernel), index_(index), order_(order), phase_major_(phase_major), rng_(&rng),
        phases_(kernel.phases()), shared_(size_t(kernel.geometry.cluster)) {
    for (auto& s : shared_) s.assign(size_t(kernel.shared_floats()), std::numeric_limits<float>::quiet_NaN());
    threads_.resize(size_t(kernel.geometry.threads));
    for (size_t i = 0; i < threads_.size(); ++i)
      threads_[i] = order == ThreadOrder::Descending ? int(threads_.size() - 1 - i) : int(i);
    begin_segment(0);
  }

  bool done() const { return pos_ >= steps_.size(); }
  int64_t phase() const { return steps_[pos_].second; }  // the phase step() runs next
  bool at_last_thread() const { return thread_ + 1 == threads_.size(); }  // of its CTA's phase

  void step() {
    const auto [rank, phase] = steps_[pos_];
    kernel_->run_phase(phase, index_, EmulatedCta(rank, shared_), threads_[thread_]);
    if (++thread_ < threads_.size()) return;
    thread_ = 0;
    if (++pos_ == steps_.size() && segment_end_ < phases_) begin_segment(segment_end_);
    else if (order_ == ThreadOrder::Shuffled) std::shuffle(threads_.begin(), threads_.end(), *rng_);
  }

 private:
  // The (CTA, phase) pairs of the segment starting at `first`, in the order they run.
  void begin_segment(int64_t first) {
    int64_t last = first;  // the segment [first, last] ends at a cluster barrier
    while (last + 1 < phases_ && kernel_->barrier_after(last) == kernels::Barrier::Cta) ++last;
    segment_end_ = last + 1;
    const int C = kernel_->geometry.cluster;
    std::vector<int> ranks(static_cast<size_t>(C));
    for (int i = 0; i < C; ++i) ranks[size_t(i)] = order_ == ThreadOrder::Descending ? C - 1 - i : i;
    if (order_ == ThreadOrder::Shuffled) std::shuffle(ranks.begin(), ranks.end(), *rng_);
    steps_.clear();
    pos_ = 0;
    if (phase_major_) {
      for (int64_t phase = first; phase <= last; ++phase)
        for (int rank : ranks) steps_.emplace_back(rank, phase);
    } else {
      for (int rank : ranks)
        for (int64_t phase = first; phase <= last; ++phase) steps_.emplace_back(rank, phase);
    }
    if (order_ == ThreadOrder::Shuffled) std::shuffle(threads_.begin(), threads_.end(), *rng_);
  }

  const Kernel* kernel_;
  int64_t index_;
  ThreadOrder order_;
  bool phase_major_;
  std::mt19937_64* rng_;
  int64_t phases_, segment_end_ = 0;
  std::vector<std::vector<float>> shared_;
  std::vector<int> threads_;
  std::vector<std::pair<int, int64_t>> steps_;  // (CTA rank, phase) of the current segment
  size_t pos_ = 0, thread_ = 0;
};

// Every cluster of the kernel's grid, interleaved as the schedule says.
template <class Kernel>
void emulate_clusters(const Kernel& kernel, int64_t clusters, const EmulatorSchedule& schedule = {}) {
  if (clusters <= 0 || kernel.phases() <= 0) return;
  std::mt19937_64 rng(schedule.seed);
  const ThreadOrder order = schedule.threads;
  std::vector<EmulatedCluster<Kernel>> runs;
  runs.reserve(size_t(clusters));
  const bool phase_major =
      schedule.clusters == ClusterInterleaving::Lockstep || schedule.clusters == ClusterInterleaving::Preempted;
  for (int64_t i = 0; i < clusters; ++i) runs.emplace_back(kernel, i, order, phase_major, rng);
  std::vector<size_t> turn(static_cast<size_t>(clusters));  // cluster order of OneAfterAnother and Lockstep
  const auto reorder = [&] {
    for (size_t i = 0; i < turn.size(); ++i) turn[i] = order == ThreadOrder::Descending ? turn.size() - 1 - i : i;
    if (order == ThreadOrder::Shuffled) std::shuffle(turn.begin(), turn.end(), rng);
  };
  switch (schedule.clusters) {
    case ClusterInterleaving::OneAfterAnother:
      reorder();
      for (size_t c : turn)
        while (!runs[c].done()) runs[c].step();
      break;
    case ClusterInterleaving::Lockstep:
      for (int64_t phase = 0; phase < kernel.phases(); ++phase) {
        reorder();
        for (size_t c : turn)
          while (!runs[c].done() && runs[c].phase() == phase) runs[c].step();
      }
      break;
    case ClusterInterleaving::Random: {
      std::vector<size_t> running(static_cast<size_t>(clusters));
      for (size_t i = 0; i < running.size(); ++i) running[i] = i;
      while (!running.empty()) {
        const size_t k = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
        runs[running[k]].step();
        if (runs[running[k]].done()) {
          running[k] = running.back();
          running.pop_back();
        }
      }
      break;
    }
    case ClusterInterleaving::Preempted: {
      EmulatedCluster<Kernel>& stalled = runs[size_t(schedule.seed % uint64_t(clusters))];
      while (!stalled.done() && !(stalled.phase() == schedule.pause_phase && stalled.at_last_thread())) stalled.step();
      for (int64_t phase = 0; phase < kernel.phases(); ++phase)
        for (auto& run : runs)
          while (&run != &stalled && !run.done() && run.phase() == phase) run.step();
      while (!stalled.done()) stalled.step();
      break;
    }
  }
}

}  // namespace ctrnn::detail
