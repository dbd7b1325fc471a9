#pragma once
// The CPU backend's threads: a small process-wide pool of workers and a fork-join over ranges.
// [0, n) is cut into `parts` contiguous ranges of near-equal size, range k = [n k / parts,
// n (k + 1) / parts); the calling thread and up to parts - 1 workers take ranges as they come
// free. The cut depends on (n, parts) only, and each range is run by one thread, so work that
// writes each output from one range, in a fixed order, gives the same bits whichever thread runs
// which range: at a fixed `parts` the results are reproducible. Where an output's value could
// depend on the cut (a product handed to OpenBLAS whole), the caller cuts by the problem's shape
// and passes the pieces as the items of [0, n), so `parts` only chooses who runs which piece and
// the results are the same on any thread count (blas_gemm.cpp).
// Why a pool of our own rather than OpenMP: the caller never waits for a worker that has not
// started (on a loaded machine a worker may not be scheduled for milliseconds; the caller then
// runs the ranges itself), and idle workers spin for only ~30 us before they sleep, so a second
// core is not burnt between the short per-step regions.
#include <cstdint>
#include <numeric>

namespace ctrnn::detail {

using RangeFunction = void (*)(const void* context, int64_t begin, int64_t end);

// fn(context, begin, end) for each of the `parts` ranges of [0, n); parts <= 1 (or n <= 1): one
// call on the calling thread. Blocks until every range is done. fn must not throw. Safe to call
// from several threads at once (a caller that finds the pool busy runs its ranges itself).
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

}  // namespace ctrnn::detail
