#pragma once
// Eigen-decomposition of the fixed points' Jacobians on the host: LAPACK's dgeev from the
// build's OpenBLAS (which bundles LAPACK; cmake/CtrnnBlas.cmake). Builds without OpenBLAS have
// no eigen-decomposition (eigen_available() is false).
#include <cstdint>

namespace ctrnn::detail {

bool eigen_available();

// The eigenvalues and right eigenvectors of the real H x H row-major matrix J: eigenvalue k is
// (re[k], im[k]), sorted by decreasing |lambda| (ties: by decreasing real part, then imaginary
// part); eigenvector k is column k of (vec_re, vec_im) (H x H row-major), of unit norm. Throws
// StateError when LAPACK is missing or fails.
void eigen_decompose(int64_t H, const double* J, double* re, double* im, double* vec_re, double* vec_im);

}  // namespace ctrnn::detail
