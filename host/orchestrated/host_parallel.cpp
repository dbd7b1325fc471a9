#include "orchestrated/host_parallel.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ctrnn::detail {

void run_ranges(int parts, int64_t n, RangeFunction fn, const void* context) {
  if (n <= 0) return;
  if (parts > n) parts = int(n);
  if (parts <= 1) return fn(context, 0, n);
  auto range = [&](int k) { fn(context, n * k / parts, n * (k + 1) / parts); };
#ifdef _OPENMP
#pragma omp parallel num_threads(parts)
  {
    // The team may be smaller than asked: each thread then takes every team-th range.
    const int team = omp_get_num_threads();
    for (int k = omp_get_thread_num(); k < parts; k += team) range(k);
  }
#else
  for (int k = 0; k < parts; ++k) range(k);
#endif
}

bool host_threads_available() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace ctrnn::detail
