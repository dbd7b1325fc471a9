# Decides whether the CPU backend of float networks does its matrix products with OpenBLAS
# (CTRNN_WITH_BLAS) from CTRNN_BLAS = AUTO | ON | OFF, and which OpenBLAS: the target BLAS::BLAS
# (with cblas.h's folder and, for scipy-openblas32, the symbol prefix as usage requirements).
# Without it the CPU reference computes.
#
# CTRNN_OPENBLAS = AUTO | PYPI | SYSTEM. PYPI is OpenBLAS from the Python package scipy-openblas32
# (scripts/install-deps.sh installs it; found through the python3 of the build, never
# downloaded), SYSTEM is the distribution's (libopenblas-dev). AUTO takes PYPI when its module
# imports, else SYSTEM. Why PYPI first: the kernels are chosen at run time from a table of CPU
# models, and Debian 12's OpenBLAS 0.3.21 predates current CPUs (Emerald Rapids among them), on
# which it falls back to its SSE3 kernels, 4x slower (bench/RESULTS.md); the PyPI build follows
# OpenBLAS's releases, so the library picks the AVX-512 kernels itself, with no environment
# variable to set before the process starts.
set(CTRNN_OPENBLAS AUTO CACHE STRING "Which OpenBLAS: AUTO (PyPI's scipy-openblas32 when found, else the system's), PYPI or SYSTEM")
set_property(CACHE CTRNN_OPENBLAS PROPERTY STRINGS AUTO PYPI SYSTEM)
set(CTRNN_WITH_BLAS OFF)
set(CTRNN_OPENBLAS_FOUND "")  # PYPI or SYSTEM once found

# scipy-openblas32: its Python module says where its header folder and library are.
function(ctrnn_find_pypi_openblas)
  set(python "${Python_EXECUTABLE}")  # the interpreter of a scikit-build-core build, if any
  if(NOT python)
    find_program(CTRNN_PYTHON3 NAMES python3)
    set(python "${CTRNN_PYTHON3}")
  endif()
  if(NOT python)
    return()
  endif()
  set(CTRNN_OPENBLAS_PYTHON "${python}" PARENT_SCOPE)  # for the error message
  execute_process(
    COMMAND "${python}" -c "import os, scipy_openblas32 as m; print(m.get_include_dir()); print(os.path.join(m.get_lib_dir(), m.get_library(True)))"
    OUTPUT_VARIABLE out RESULT_VARIABLE status ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT status EQUAL 0)
    return()
  endif()
  string(REPLACE "\n" ";" out "${out}")
  list(GET out 0 include_dir)
  list(GET out 1 library)
  if(EXISTS "${include_dir}/cblas.h" AND EXISTS "${library}")
    set(CTRNN_PYPI_OPENBLAS_INCLUDE_DIR "${include_dir}" PARENT_SCOPE)
    set(CTRNN_PYPI_OPENBLAS_LIBRARY "${library}" PARENT_SCOPE)
  endif()
endfunction()

if(NOT CTRNN_BLAS STREQUAL "OFF")
  if(CTRNN_OPENBLAS STREQUAL "AUTO" OR CTRNN_OPENBLAS STREQUAL "PYPI")
    ctrnn_find_pypi_openblas()
    if(CTRNN_PYPI_OPENBLAS_LIBRARY)
      # Every symbol of scipy-openblas32 is named scipy_<name> (openblas_api.hpp maps them).
      add_library(BLAS::BLAS SHARED IMPORTED)
      set_target_properties(BLAS::BLAS PROPERTIES
        IMPORTED_LOCATION "${CTRNN_PYPI_OPENBLAS_LIBRARY}"
        IMPORTED_SONAME libscipy_openblas.so
        INTERFACE_INCLUDE_DIRECTORIES "${CTRNN_PYPI_OPENBLAS_INCLUDE_DIR}"
        INTERFACE_COMPILE_DEFINITIONS CTRNN_OPENBLAS_SCIPY_PREFIX)
      set(CTRNN_OPENBLAS_FOUND PYPI)
      # The installed library, program and Python extension find it where the build did (it
      # lives outside the system's library folders).
      set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)
      set(CTRNN_OPENBLAS_DESCRIPTION "scipy-openblas32 (${CTRNN_PYPI_OPENBLAS_LIBRARY})")
    elseif(CTRNN_OPENBLAS STREQUAL "PYPI" AND CTRNN_BLAS STREQUAL "ON")
      message(FATAL_ERROR "CTRNN_OPENBLAS=PYPI but the Python module scipy_openblas32 (PyPI's OpenBLAS) was not "
                          "found for ${CTRNN_OPENBLAS_PYTHON}: pip install scipy-openblas32, or set "
                          "CTRNN_OPENBLAS=SYSTEM (the system's OpenBLAS) or CTRNN_BLAS=OFF (the single-threaded "
                          "plain reference, no OpenBLAS)")
    endif()
  endif()
  if(NOT CTRNN_OPENBLAS_FOUND AND NOT CTRNN_OPENBLAS STREQUAL "PYPI")
    set(BLA_VENDOR OpenBLAS)
    find_package(BLAS QUIET)
    find_path(CTRNN_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas-pthread openblas)
    if(BLAS_FOUND AND CTRNN_CBLAS_INCLUDE_DIR)
      set_property(TARGET BLAS::BLAS APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${CTRNN_CBLAS_INCLUDE_DIR}")
      set(CTRNN_OPENBLAS_FOUND SYSTEM)
      set(CTRNN_OPENBLAS_DESCRIPTION "the system's (${BLAS_LIBRARIES}, cblas.h in ${CTRNN_CBLAS_INCLUDE_DIR})")
    endif()
  endif()
  if(CTRNN_OPENBLAS_FOUND)
    set(CTRNN_WITH_BLAS ON)
  elseif(CTRNN_BLAS STREQUAL "ON")
    message(FATAL_ERROR "CTRNN_BLAS=ON but OpenBLAS (scipy-openblas32 from PyPI, or libopenblas-dev) was not found")
  endif()
endif()
if(CTRNN_WITH_BLAS)
  message(STATUS "ctrnn: CPU backend over OpenBLAS, ${CTRNN_OPENBLAS_DESCRIPTION}")
else()
  message(STATUS "ctrnn: CPU backend is the plain reference (no OpenBLAS)")
endif()
