# Tests of the CUDA backend (included by tests/CMakeLists.txt).
# - test_host_orchestration: the CUDA backend's orchestration and kernel bodies run on the host
#   (HostPrims) against the CPU backend and the double reference. Needs no CUDA: always built, and
#   it is what CI checks of the GPU path on every commit.
# - test_cuda_no_device: Device::Cuda without a device throws StateError (skips where a GPU exists).
# - test_cuda_gpu: CudaPrims against HostPrims, the CUDA backend against the CPU backend (every
#   forced path of the recurrence too), networks on Device::Cuda, noise statistics, views of
#   device memory on a caller's stream. Built with CUDA only; every test skips without a device.
# - test_cuda_stubbed: the error path (cuda_check.cpp) and the device binding of the backend
#   (device_guard.hpp, device_bound_backend.hpp) against a stub of the CUDA runtime defined in the
#   test (the runtime is not linked). CUDA builds; no GPU needed.
# - test_cublas_loader: cuBLAS is loaded at its first use, not at start-up. CUDA builds; no GPU needed.
# - cublas_symbols_not_defined: libctrnn defines no cublas* symbol (its forwarders cannot
#   interpose another library's cuBLAS); package.add_subdirectory_shared checks the shared build.
# - kernels_keep_philox_in_registers: ptxas's resource report of the noise, growth and persistent
#   recurrence kernels (no stack frame, no spills); needs nvcc only.
# - persistent_loops_load_shared: the PTX of the persistent kernels, the cluster ones too, loads
#   the recurrent product's operands with ld.shared (scripts/kernel-resources.sh --shared-loads);
#   needs nvcc only.
ctrnn_test(test_host_orchestration test_host_orchestration.cpp)
ctrnn_test(test_cuda_no_device test_cuda_no_device.cpp)
if(CTRNN_WITH_CUDA)
  ctrnn_test(test_cuda_gpu test_cuda_primitives.cpp test_cuda_backend.cpp test_cuda_network.cpp test_persistent_gpu.cpp
             test_cuda_views.cpp)
  # test_cuda_views makes device buffers and streams of its own
  target_include_directories(test_cuda_gpu PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(test_cuda_gpu PRIVATE CUDA::cudart_static)
  add_test(NAME kernels_keep_philox_in_registers
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_kernel_stack.sh ${CMAKE_CUDA_COMPILER} ${PROJECT_SOURCE_DIR})
  add_test(NAME persistent_loops_load_shared
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/kernel-resources.sh --shared-loads ${CMAKE_CUDA_COMPILER}
                   ${PROJECT_SOURCE_DIR})
  add_executable(test_cuda_stubbed test_cuda_stubbed.cpp ${PROJECT_SOURCE_DIR}/host/cuda/cuda_check.cpp)
  target_include_directories(test_cuda_stubbed PRIVATE ${PROJECT_SOURCE_DIR}/host ${PROJECT_SOURCE_DIR}/include
                                                       ${PROJECT_SOURCE_DIR} ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(test_cuda_stubbed PRIVATE GTest::gtest GTest::gtest_main)
  gtest_discover_tests(test_cuda_stubbed DISCOVERY_TIMEOUT 60)
  ctrnn_test(test_cublas_loader test_cublas_loader.cpp)
  target_include_directories(test_cublas_loader PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
  add_test(NAME cublas_symbols_not_defined
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_no_cublas_symbols.sh $<TARGET_FILE:ctrnn>)
endif()

# The persistent recurrence kernels run by the host emulator (label "emulated"): always built.
add_executable(test_persistent_emulated test_persistent_emulated.cpp)
target_link_libraries(test_persistent_emulated PRIVATE ctrnn_internal GTest::gtest GTest::gtest_main)
target_include_directories(test_persistent_emulated PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
gtest_discover_tests(test_persistent_emulated DISCOVERY_TIMEOUT 60 PROPERTIES LABELS emulated)
