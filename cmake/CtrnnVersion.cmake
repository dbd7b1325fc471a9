# Reads CTRNN_VERSION ("MAJOR.MINOR.PATCH") from include/ctrnn/version.hpp, the one place the
# version is stated.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../include/ctrnn/version.hpp" _ctrnn_version_lines
     REGEX "^#define CTRNN_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+$")
foreach(_part MAJOR MINOR PATCH)
  set(_ctrnn_${_part} "")
  foreach(_line IN LISTS _ctrnn_version_lines)
    if(_line MATCHES "^#define CTRNN_VERSION_${_part} +([0-9]+)$")
      set(_ctrnn_${_part} "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(_ctrnn_${_part} STREQUAL "")
    message(FATAL_ERROR "include/ctrnn/version.hpp: expected a line '#define CTRNN_VERSION_${_part} <number>'")
  endif()
endforeach()
set(CTRNN_VERSION "${_ctrnn_MAJOR}.${_ctrnn_MINOR}.${_ctrnn_PATCH}")
unset(_ctrnn_version_lines)
