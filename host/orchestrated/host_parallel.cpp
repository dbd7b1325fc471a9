#include "orchestrated/host_parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ctrnn::detail {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

constexpr int kMaxParts = (1 << 15) - 1;               // fits the 16-bit fields of the job state
constexpr auto kWorkerSpin = std::chrono::microseconds(30);  // busy wait before a worker sleeps

// The job in flight is one 64-bit word: generation (32 bits) | next range (16) | ranges (16). A
// range is taken by a compare-and-swap on the whole word, so a thread holding a stale word (an
// earlier job) can never take a range of the current one by mistake.
constexpr uint64_t pack(uint32_t generation, int next, int parts) {
  return uint64_t(generation) << 32 | uint64_t(next) << 16 | uint64_t(parts);
}
constexpr uint32_t generation_of(uint64_t s) { return uint32_t(s >> 32); }
constexpr int next_of(uint64_t s) { return int((s >> 16) & 0xFFFF); }
constexpr int parts_of(uint64_t s) { return int(s & 0xFFFF); }

class Pool {
 public:
  // Never destroyed: its detached workers may still be waiting when static objects are torn down.
  static Pool& instance() {
    static Pool* pool = new Pool;
    return *pool;
  }

  // Runs the job on the caller and the workers; false (nothing run) when another caller holds the
  // pool.
  bool run(int parts, int64_t n, RangeFunction fn, const void* context) {
    std::unique_lock<std::mutex> caller(caller_mutex_, std::try_to_lock);
    if (!caller.owns_lock()) return false;
    const uint32_t generation = generation_of(state_.load(std::memory_order_relaxed)) + 1;
    add_workers(parts - 1);
    fn_ = fn, context_ = context, n_ = n;
    done_.store(0, std::memory_order_relaxed);
    {
      // Published under the sleepers' mutex, so a worker about to sleep sees it or is woken.
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      state_.store(pack(generation, 0, parts), std::memory_order_release);
    }
    wake_.notify_all();
    take_ranges(generation);
    // Only ranges a worker has taken are waited for; a worker that has not started finds none.
    for (int spins = 0; done_.load(std::memory_order_acquire) < parts; ++spins)
      if (spins < 4096)
        cpu_relax();
      else
        std::this_thread::yield();  // that worker was preempted mid-range: let it run
    return true;
  }

 private:
  void add_workers(int wanted) {
    for (int k = workers_; k < wanted; ++k, ++workers_) {
      const uint32_t seen = generation_of(state_.load(std::memory_order_relaxed));
      std::thread([this, seen] { work(seen); }).detach();
    }
  }

  void take_ranges(uint32_t generation) {
    uint64_t s = state_.load(std::memory_order_acquire);
    while (generation_of(s) == generation && next_of(s) < parts_of(s)) {
      if (!state_.compare_exchange_weak(s, s + (uint64_t(1) << 16), std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;  // s reloaded
      const int k = next_of(s), parts = parts_of(s);
      fn_(context_, n_ * k / parts, n_ * (k + 1) / parts);
      done_.fetch_add(1, std::memory_order_release);
      s = state_.load(std::memory_order_acquire);
    }
  }

  [[noreturn]] void work(uint32_t seen) {
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      for (int spins = 1; generation_of(state_.load(std::memory_order_acquire)) == seen; ++spins) {
        cpu_relax();
        if (spins % 64 == 0 && std::chrono::steady_clock::now() - start > kWorkerSpin) {
          std::unique_lock<std::mutex> lock(sleep_mutex_);
          wake_.wait(lock, [&] { return generation_of(state_.load(std::memory_order_acquire)) != seen; });
        }
      }
      seen = generation_of(state_.load(std::memory_order_acquire));
      take_ranges(seen);
    }
  }

  std::mutex caller_mutex_;  // one job at a time
  int workers_ = 0;          // guarded by caller_mutex_
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  RangeFunction fn_ = nullptr;  // the job: written before state_ is published, read after a range is taken
  const void* context_ = nullptr;
  int64_t n_ = 0;
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
};

}  // namespace

void run_ranges(int parts, int64_t n, RangeFunction fn, const void* context) {
  if (n <= 0) return;
  if (parts > n) parts = int(n);
  if (parts > kMaxParts) parts = kMaxParts;
  if (parts <= 1) return fn(context, 0, n);
  if (Pool::instance().run(parts, n, fn, context)) return;
  for (int k = 0; k < parts; ++k) fn(context, n * k / parts, n * (k + 1) / parts);  // the same cut
}

}  // namespace ctrnn::detail
