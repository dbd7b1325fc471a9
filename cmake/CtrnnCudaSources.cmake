# Adds the CUDA backend to the ctrnn target (included when CTRNN_WITH_CUDA).
# Few translation units on purpose (CI builds on 2 cores): the orchestration and cuBLAS calls are
# plain C++ (g++), and nvcc compiles only the five small kernels/*.cu files, for the
# architectures in CMAKE_CUDA_ARCHITECTURES (default 90: sm_90 SASS + compute_90 PTX).
target_compile_definitions(ctrnn PUBLIC CTRNN_WITH_CUDA)
target_sources(ctrnn PRIVATE
  host/cuda/cuda_backend.cpp
  host/cuda/cuda_primitives.cpp
  kernels/elementwise.cu
  kernels/leaky_step.cu
  kernels/loss.cu
  kernels/persistent.cu
  kernels/reduce.cu
  kernels/update.cu
)
# No fast math: the noise (Philox + Box-Muller) and activations must stay within a few ulp of
# the CPU backend's. -lineinfo lets compute-sanitizer name source lines.
target_compile_options(ctrnn PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo -Xcompiler=-Wall>)
# The CUDA runtime statically (binaries built here start on the GPU machine without a matching
# libcudart); cuBLAS from the CUDA install there.
set_target_properties(ctrnn PROPERTIES CUDA_RUNTIME_LIBRARY Static)
target_link_libraries(ctrnn PRIVATE CUDA::cudart_static CUDA::cublas)
