#pragma once
// OpenBLAS's C interface under one set of names, whichever OpenBLAS the build found
// (cmake/CtrnnBlas.cmake): scipy-openblas32 (PyPI) names every symbol scipy_<name>, the system's
// OpenBLAS <name>. The CBLAS enums and OPENBLAS_VERSION are the same in both.
#include <cblas.h>

#ifdef CTRNN_OPENBLAS_SCIPY_PREFIX
#define CTRNN_OPENBLAS(name) scipy_##name
#else
#define CTRNN_OPENBLAS(name) name
#endif
