# Tests of ctrnn as a package other projects link (label "package"; included by
# tests/CMakeLists.txt). Both build examples/downstream, which links ctrnn::ctrnn into a shared
# library and a program and runs a forward, a backward and a short training run:
# - package.find_package: installs this build tree into a temporary prefix (only copies: nothing
#   of ctrnn is compiled again) and consumes it with find_package(ctrnn CONFIG REQUIRED); with the
#   default static libctrnn this also checks that it links into a shared object (-fPIC).
# - package.add_subdirectory_shared: builds ctrnn inside the example with BUILD_SHARED_LIBS=ON
#   (libctrnn.so, the same CUDA/BLAS choice as this build) and checks that a parent project gets
#   only the library and keeps its own (empty) build type.
set(_ctrnn_package_args
  -DCTRNN_SOURCE_DIR=${PROJECT_SOURCE_DIR}
  -DCTRNN_BINARY_DIR=${PROJECT_BINARY_DIR}
  -DGENERATOR=${CMAKE_GENERATOR}
  -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
  -DCOMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}
  -DWITH_CUDA=${CTRNN_WITH_CUDA}
  -DWITH_BLAS=${CTRNN_WITH_BLAS})
if(CTRNN_WITH_CUDA)
  list(APPEND _ctrnn_package_args -DCUDA_COMPILER=${CMAKE_CUDA_COMPILER} -DCUDA_ARCHITECTURES=${CMAKE_CUDA_ARCHITECTURES})
endif()

if(CTRNN_INSTALL)
  add_test(NAME package.find_package
    COMMAND ${CMAKE_COMMAND} ${_ctrnn_package_args} -DMODE=find_package
            -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package/find_package
            -P ${CMAKE_CURRENT_SOURCE_DIR}/package/consume.cmake)
  set_tests_properties(package.find_package PROPERTIES LABELS package TIMEOUT 600)
endif()

add_test(NAME package.add_subdirectory_shared
  COMMAND ${CMAKE_COMMAND} ${_ctrnn_package_args} -DMODE=add_subdirectory_shared
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package/add_subdirectory_shared
          -P ${CMAKE_CURRENT_SOURCE_DIR}/package/consume.cmake)
set_tests_properties(package.add_subdirectory_shared PROPERTIES LABELS package TIMEOUT 1500)
