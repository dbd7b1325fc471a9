#pragma once
// ctrnn's version: the one place it is stated. CMakeLists.txt reads these three numbers for
// project(VERSION) and the package version file.
#define CTRNN_VERSION_MAJOR 0
#define CTRNN_VERSION_MINOR 1
#define CTRNN_VERSION_PATCH 0

namespace ctrnn {

// "MAJOR.MINOR.PATCH"
inline const char* version() {
#define CTRNN_STR2(x) #x
#define CTRNN_STR(x) CTRNN_STR2(x)
  return CTRNN_STR(CTRNN_VERSION_MAJOR) "." CTRNN_STR(CTRNN_VERSION_MINOR) "." CTRNN_STR(CTRNN_VERSION_PATCH);
#undef CTRNN_STR
#undef CTRNN_STR2
}

}  // namespace ctrnn
