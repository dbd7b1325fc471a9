#include "analysis/eigen.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "ctrnn/error.hpp"

#ifdef CTRNN_WITH_BLAS
#include "orchestrated/openblas_api.hpp"

// LAPACK's Fortran interface (32-bit integers, as both OpenBLAS builds use; the trailing lengths
// are the Fortran hidden lengths of the two character arguments).
extern "C" void CTRNN_OPENBLAS(dgeev_)(const char* jobvl, const char* jobvr, const int* n, double* a, const int* lda,
                                       double* wr, double* wi, double* vl, const int* ldvl, double* vr, const int* ldvr,
                                       double* work, const int* lwork, int* info, size_t jobvl_len, size_t jobvr_len);
#endif

namespace ctrnn::detail {

#ifdef CTRNN_WITH_BLAS
bool eigen_available() { return true; }

void eigen_decompose(int64_t H, const double* J, double* re, double* im, double* vec_re, double* vec_im) {
  const int n = int(H);
  const size_t h = static_cast<size_t>(H);
  std::vector<double> a(h * h), wr(h), wi(h), vr(h * h);
  for (int64_t i = 0; i < H; ++i)  // row-major J -> column-major A
    for (int64_t j = 0; j < H; ++j) a[size_t(i + j * H)] = J[i * H + j];
  int info = 0, lwork = -1, one = 1;
  double query = 0, unused = 0;
  CTRNN_OPENBLAS(dgeev_)("N", "V", &n, a.data(), &n, wr.data(), wi.data(), &unused, &one, vr.data(), &n, &query, &lwork,
                         &info, 1, 1);
  lwork = std::max(1, int(query));
  std::vector<double> work(static_cast<size_t>(lwork));
  if (info == 0)
    CTRNN_OPENBLAS(dgeev_)("N", "V", &n, a.data(), &n, wr.data(), wi.data(), &unused, &one, vr.data(), &n, work.data(),
                           &lwork, &info, 1, 1);
  if (info != 0) throw StateError("ctrnn: LAPACK dgeev failed on a Jacobian (info " + std::to_string(info) + ")");
  // Column k of vr is eigenvector k when wi[k] == 0; a complex pair (wi[k] > 0) is stored as
  // columns k (real part) and k+1 (imaginary part), eigenvector k+1 its conjugate.
  std::vector<double> vre(h * h), vim(h * h, 0.0);
  for (int64_t k = 0; k < H; ++k) {
    if (wi[size_t(k)] > 0 && k + 1 < H) {
      for (int64_t i = 0; i < H; ++i) {
        const double x = vr[size_t(i + k * H)], y = vr[size_t(i + (k + 1) * H)];
        vre[size_t(i + k * H)] = x, vim[size_t(i + k * H)] = y;
        vre[size_t(i + (k + 1) * H)] = x, vim[size_t(i + (k + 1) * H)] = -y;
      }
      ++k;
    } else {
      for (int64_t i = 0; i < H; ++i) vre[size_t(i + k * H)] = vr[size_t(i + k * H)];
    }
  }
  std::vector<int64_t> order(h);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    const double mx = std::hypot(wr[size_t(x)], wi[size_t(x)]), my = std::hypot(wr[size_t(y)], wi[size_t(y)]);
    if (mx != my) return mx > my;
    if (wr[size_t(x)] != wr[size_t(y)]) return wr[size_t(x)] > wr[size_t(y)];
    return wi[size_t(x)] > wi[size_t(y)];
  });
  for (int64_t k = 0; k < H; ++k) {
    const int64_t from = order[size_t(k)];
    re[k] = wr[size_t(from)], im[k] = wi[size_t(from)];
    for (int64_t i = 0; i < H; ++i) {
      vec_re[i * H + k] = vre[size_t(i + from * H)];
      vec_im[i * H + k] = vim[size_t(i + from * H)];
    }
  }
}
#else
bool eigen_available() { return false; }

void eigen_decompose(int64_t, const double*, double*, double*, double*, double*) {
  throw StateError("ctrnn: eigenvalues need LAPACK, and this build has no OpenBLAS (configure with -DCTRNN_BLAS=ON)");
}
#endif

}  // namespace ctrnn::detail
