# Install rules: the library, the public headers (include/ctrnn/), the program when built, and a
# CMake package (ctrnnConfig.cmake, ctrnnConfigVersion.cmake, ctrnnTargets.cmake) that gives
# find_package(ctrnn CONFIG) users the target ctrnn::ctrnn.
include(CMakePackageConfigHelpers)
set(CTRNN_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ctrnn" CACHE STRING
    "Where ctrnnConfig.cmake is installed, relative to the prefix")

install(TARGETS ctrnn EXPORT ctrnnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/ctrnn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
if(TARGET ctrnn_cli)
  # The installed program finds a shared libctrnn in the prefix's library folder.
  set_target_properties(ctrnn_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  install(TARGETS ctrnn_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT ctrnnTargets NAMESPACE ctrnn:: DESTINATION ${CTRNN_INSTALL_CMAKEDIR})

# What the package file must find again for a consumer: a static libctrnn carries its link
# dependencies (CUDA runtime, cuBLAS, BLAS) into the consumer's link; a shared one has them inside.
get_target_property(_ctrnn_type ctrnn TYPE)
if(_ctrnn_type STREQUAL "STATIC_LIBRARY")
  set(CTRNN_PACKAGE_STATIC ON)
else()
  set(CTRNN_PACKAGE_STATIC OFF)
endif()
set(CTRNN_PACKAGE_BLA_VENDOR "${BLA_VENDOR}")
configure_package_config_file(cmake/ctrnnConfig.cmake.in "${PROJECT_BINARY_DIR}/ctrnnConfig.cmake"
  INSTALL_DESTINATION ${CTRNN_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API, so only the same MAJOR.MINOR is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/ctrnnConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/ctrnnConfig.cmake" "${PROJECT_BINARY_DIR}/ctrnnConfigVersion.cmake"
  DESTINATION ${CTRNN_INSTALL_CMAKEDIR})
