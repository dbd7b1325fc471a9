# Adds the CUDA backend (host/cuda/) to the ctrnn target (included when CTRNN_WITH_CUDA).
# Few translation units on purpose (CI builds on 2 cores): the orchestration and cuBLAS calls are
# plain C++ (g++), and nvcc compiles only the small host/cuda/*.cu files, for the
# architectures in CMAKE_CUDA_ARCHITECTURES (default 90: sm_90 SASS + compute_90 PTX).
target_compile_definitions(ctrnn PRIVATE CTRNN_WITH_CUDA)
target_sources(ctrnn PRIVATE
  host/cuda/cublas_loader.cpp
  host/cuda/cuda_backend.cpp
  host/cuda/cuda_check.cpp
  host/cuda/cuda_fixed_points.cpp
  host/cuda/cuda_primitives.cpp
  host/cuda/elementwise.cu
  host/cuda/fixed_point.cu
  host/cuda/leaky_step.cu
  host/cuda/loss.cu
  host/cuda/persistent.cu
  host/cuda/reduce.cu
  host/cuda/update.cu
)
# No fast math: the noise (Philox + Box-Muller) and activations must stay within a few ulp of
# the CPU backend's. -lineinfo lets compute-sanitizer name source lines.
target_compile_options(ctrnn PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo -Xcompiler=-Wall>)
# The CUDA runtime statically (binaries built here start on the GPU machine without a matching
# libcudart); cuBLAS from the CUDA install there, loaded at its first use (host/cuda/
# cublas_loader.cpp: linking it would cost every process ~0.5 s of cuBLAS initialisation).
set_target_properties(ctrnn PROPERTIES CUDA_RUNTIME_LIBRARY Static)
get_target_property(CTRNN_CUBLAS_PATH CUDA::cublas IMPORTED_LOCATION)
target_compile_definitions(ctrnn PRIVATE
  CTRNN_CUBLAS_SONAME="libcublas.so.${CUDAToolkit_VERSION_MAJOR}" CTRNN_CUBLAS_PATH="${CTRNN_CUBLAS_PATH}")
target_include_directories(ctrnn PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
target_link_libraries(ctrnn PRIVATE CUDA::cudart_static ${CMAKE_DL_LIBS})
