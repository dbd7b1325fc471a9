# The CPU backend's sources, threads and instruction set, for the ctrnn target (included once it
# exists).
#   The OpenBLAS backend's fused loops and its pool of threads (host/orchestrated/).
#   CTRNN_NATIVE_ARCH (OFF): -march=native for the library's host code (AVX2/AVX-512 and FMA in
#     the per-element loops); the binaries then run only on CPUs with the build machine's
#     instruction set. OpenBLAS picks its kernels for the CPU at run time either way.
#   CTRNN_VECTORIZE_REPORT (OFF): the compiler's report of the loops it vectorized in the fused
#     per-element passes (host/orchestrated/host_fused_steps.cpp), printed while building.
option(CTRNN_NATIVE_ARCH "Compile the host code for this machine's CPU (-march=native): faster, not portable" OFF)
option(CTRNN_VECTORIZE_REPORT "Print the compiler's vectorization report for the CPU backend's fused loops" OFF)

if(CTRNN_WITH_BLAS)
  target_sources(ctrnn PRIVATE host/orchestrated/host_parallel.cpp host/orchestrated/host_fused_steps.cpp)
  find_package(Threads REQUIRED)
  target_link_libraries(ctrnn PRIVATE Threads::Threads)
  # -fno-trapping-math: with it GCC turns the float compares of ReLU' into selects and vectorizes
  # the backward step (without it: "control flow in loop", as a compare could raise FE_INVALID).
  # Only floating-point exception flags are affected, which ctrnn never reads: same values.
  # -ffp-contract=off: every operation rounded as the kernel bodies' host runs round it, also
  # with CTRNN_NATIVE_ARCH (FMA), so the fused loops stay bit-identical to the bodies.
  # -fno-math-errno: sqrtf as the instruction (Adam's sqrt(v), v >= 0 or NaN, whose result is the
  # same correctly rounded value), so the optimizer's loops vectorize.
  set(fused_flags -fno-trapping-math -ffp-contract=off -fno-math-errno)
  if(CTRNN_VECTORIZE_REPORT)
    list(APPEND fused_flags -fopt-info-vec-optimized -fopt-info-vec-missed)
  endif()
  set_source_files_properties(host/orchestrated/host_fused_steps.cpp PROPERTIES COMPILE_OPTIONS "${fused_flags}")
endif()
if(CTRNN_NATIVE_ARCH)
  target_compile_options(ctrnn PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  message(STATUS "ctrnn: host code compiled with -march=native (binaries for this CPU only)")
endif()
# The small products' kernels (host/orchestrated/small_gemm.cpp): alpha and beta C applied as
# rounded operations after each element's FMA chain, as the plain loop that defines their bits;
# the AVX2 region would otherwise let GCC contract alpha x + C into an FMA (seen: one ulp off in
# test_small_gemm).
set_source_files_properties(host/orchestrated/small_gemm.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
# The batched normals (host/normal_fill.cpp): each operation rounded as written, FMAs only where
# the code calls them (the bits must be libm's), and sqrtf as the instruction (its arguments are
# never negative), and selects without branches (-fno-trapping-math, as above), so that the lane
# loops vectorize.
set_source_files_properties(host/normal_fill.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;-fno-math-errno;-fno-trapping-math")
