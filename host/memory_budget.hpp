#pragma once
// Memory checks before allocating: sizes as overflow-checked products, the host RAM available,
// and the one refusal message (parameter, bytes needed, bytes available). A call that would not
// fit is refused before it changes anything, instead of failing half-way with std::bad_alloc or
// cudaErrorMemoryAllocation.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>

#include "ctrnn/error.hpp"

namespace ctrnn::detail {

// The product of the factors (all >= 0), or InvalidArgument naming `parameter` and `value` when
// it exceeds what an int64_t holds.
template <class Factors>
int64_t checked_product(const Factors& factors, const std::string& parameter, const std::string& value) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (f < 0) throw InvalidArgument(parameter, "sizes >= 0", value);
    if (f != 0 && p > std::numeric_limits<int64_t>::max() / f)
      throw InvalidArgument(parameter, "sizes whose element counts fit in 64 bits", value);
    p *= f;
  }
  return p;
}
inline int64_t checked_product(std::initializer_list<int64_t> factors, const std::string& parameter,
                               const std::string& value) {
  return checked_product<std::initializer_list<int64_t>>(factors, parameter, value);
}

// a + b, saturating at the int64_t maximum (a byte count that large is refused anyway).
inline int64_t saturating_add(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

// Bytes of host RAM available to new allocations: MemAvailable of /proc/meminfo (Linux), else
// the free physical pages.
inline int64_t host_memory_available() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? int64_t(pages) * int64_t(page) : std::numeric_limits<int64_t>::max();
}

// Throws InvalidArgument when `needed` bytes exceed `available`.
inline void require_memory(const std::string& parameter, const std::string& value, int64_t needed,
                           int64_t available, const std::string& where) {
  if (needed <= available) return;
  throw InvalidArgument(parameter,
                        "a size whose buffers fit in " + where + ": needs " + std::to_string(needed) + " bytes, " +
                            std::to_string(available) + " bytes available",
                        value);
}

}  // namespace ctrnn::detail
