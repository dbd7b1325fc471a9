#pragma once
// Many standard normals of one RandomStream at once, for the host's per-element loops: the same
// bits as RandomStream::normal(i) for every i (docs/contract.md: the noise is bit-identical
// between the reference, the CPU backend and HostPrims), at a fraction of the cost. normal(i)
// computes a whole Philox block and a log, a square root and a cosine or sine for one value;
// here each block is computed once for its 4 elements, each radius and angle once for its pair,
// and on x86-64 CPUs with AVX2 and FMA (or AVX-512) 16 blocks at a time with a log, sine and
// cosine of our own that give glibc's logf, sinf and cosf results bit for bit on every input the
// generator can produce (tests/test_normal_fill.cpp checks all 2^24 of each).
#include <cstdint>

#include "kernels/philox.hpp"

namespace ctrnn::detail {

// The instruction sets the fill can run with; Best is the widest this CPU has.
enum class NormalIsa { Scalar, Avx2, Avx512, Best };

// True when this CPU (and this build) can run `isa`.
bool normal_isa_available(NormalIsa isa);

// out[k] = s.normal(first + k) for k in [0, count), bit for bit.
void fill_normals(const RandomStream& s, uint32_t first, int64_t count, float* out, NormalIsa isa = NormalIsa::Best);

// The math of the fill on its own, for the exhaustive tests: out[k] = logf(x[k]) for x[k] a
// positive normal float; sin_out[k], cos_out[k] = sinf(a[k]), cosf(a[k]) for 0 <= a[k] < 120.
void log_lanes(const float* x, int64_t n, float* out, NormalIsa isa = NormalIsa::Best);
void sincos_lanes(const float* a, int64_t n, float* sin_out, float* cos_out, NormalIsa isa = NormalIsa::Best);

}  // namespace ctrnn::detail
