#pragma once
// Whether this CPU runs the x86-64 instruction sets that the host code's run-time dispatch chooses
// among (normal_fill.cpp, orchestrated/small_gemm.cpp, orchestrated/host_fused_steps.cpp), one
// statement of each set for all of them. CTRNN_CPU_DISPATCH: the build can compile the vector
// paths (x86-64 GCC, whose `#pragma GCC target` they use); elsewhere every answer is false.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CTRNN_CPU_DISPATCH 1
#endif

namespace ctrnn::detail {

// AVX2 with FMA.
inline bool cpu_has_avx2_fma() {
#ifdef CTRNN_CPU_DISPATCH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// AVX-512 foundation alone (on top of AVX2 and FMA): what the small products' kernel uses.
inline bool cpu_has_avx512f() {
#ifdef CTRNN_CPU_DISPATCH
  return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

// AVX-512 F, DQ, VL and BW (on top of AVX2 and FMA): what the element-wise vector paths use.
inline bool cpu_has_avx512_fdqvlbw() {
#ifdef CTRNN_CPU_DISPATCH
  return cpu_has_avx512f() && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw");
#else
  return false;
#endif
}

}  // namespace ctrnn::detail
