#pragma once
// Static partitioning of the CPU backend's work over threads (OpenMP from the toolchain; serial in
// a build without it). [0, n) is cut into `parts` contiguous ranges of near-equal size, range k =
// [n k / parts, n (k + 1) / parts), and range k runs on thread k of the team. The cut depends on
// (n, parts) only, never on OpenMP's scheduling or on how many threads the runtime grants (a
// nested region, OMP_THREAD_LIMIT: then a thread runs several ranges), so work that writes each
// output from one range, in a fixed order, gives the same bits at a fixed `parts`: the
// determinism the checkpoints promise (resume bit for bit) holds with threads.
#include <cstdint>
#include <numeric>

namespace ctrnn::detail {

using RangeFunction = void (*)(const void* context, int64_t begin, int64_t end);

// fn(context, begin, end) for each of the `parts` ranges of [0, n); parts <= 1 (or n <= 1): one
// call on the calling thread. Blocks until every range is done. fn must not throw.
void run_ranges(int parts, int64_t n, RangeFunction fn, const void* context);

// run_ranges for a callable f(begin, end).
template <class F>
void parallel_ranges(int parts, int64_t n, const F& f) {
  run_ranges(
      parts, n, [](const void* c, int64_t begin, int64_t end) { (*static_cast<const F*>(c))(begin, end); }, &f);
}

// Pieces per item when `items` items (networks) are shared by `parts` threads: enough that
// items x pieces is a multiple of parts, so every thread gets the same amount (1 when items is
// a multiple of parts; parts for a single item).
inline int64_t pieces_per_item(int64_t items, int parts) { return parts / std::gcd(items, int64_t(parts)); }

// Whether this build runs run_ranges on several threads (OpenMP), for messages and tests.
bool host_threads_available();

}  // namespace ctrnn::detail
