// The float CPU backend over OpenBLAS (host/orchestrated/blas_primitives.hpp): its GEMM against
// the plain host loops for every transpose, padding, broadcast and beta, and the whole backend
// (forward, loss, BPTT, optimizer steps, growth, keep mode) against the reference CPU backend.
#include <gtest/gtest.h>

#include <cmath>

#include "orchestrated/blas_primitives.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

using detail::BlasHostPrims;
using detail::HostPrims;
using detail::Op;
using test::BackendCase;

TEST(BlasGemm, EqualsThePlainLoops) {
  int cases = 0;
  for (Op ta : {Op::N, Op::T})
    for (Op tb : {Op::N, Op::T})
      for (const auto& s : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 7, 5}, {17, 9, 2}, {70, 65, 129}, {5, 3, 0}})
        for (int64_t pad : {0, 3})
          for (int variant = 0; variant < 3; ++variant) {
            const int64_t M = s[0], N = s[1], K = s[2], batch = variant == 0 ? 1 : 3;
            const bool broadcast_a = variant == 1, broadcast_b = variant == 2;
            const float beta = variant == 2 ? 0.5f : 0.0f;
            const int64_t a_rows = ta == Op::N ? M : K, a_cols = ta == Op::N ? K : M;
            const int64_t b_rows = tb == Op::N ? K : N, b_cols = tb == Op::N ? N : K;
            const int64_t lda = std::max<int64_t>(a_cols + pad, 1), ldb = std::max<int64_t>(b_cols + pad, 1), ldc = N + pad;
            const int64_t sa = broadcast_a ? 0 : a_rows * lda, sb = broadcast_b ? 0 : b_rows * ldb, sc = M * ldc;
            const auto A = test::random_vector<float>(size_t(std::max<int64_t>((broadcast_a ? 1 : batch) * a_rows * lda, 1)), 10 + cases);
            const auto B = test::random_vector<float>(size_t(std::max<int64_t>((broadcast_b ? 1 : batch) * b_rows * ldb, 1)), 20 + cases);
            auto C_plain = test::random_vector<float>(size_t(batch * sc), 30 + cases);
            if (beta == 0.0f)  // beta 0: C is not read, so NaN there must not leak into the result
              for (auto& x : C_plain) x = std::nanf("");
            auto C_blas = C_plain;
            HostPrims().gemm(ta, tb, M, N, K, 0.75f, A.data(), lda, sa, B.data(), ldb, sb, beta, C_plain.data(), ldc,
                             sc, batch);
            BlasHostPrims().gemm(ta, tb, M, N, K, 0.75f, A.data(), lda, sa, B.data(), ldb, sb, beta, C_blas.data(),
                                 ldc, sc, batch);
            // Rows of C outside the N columns (padding) are left alone by both; compare all.
            // float32 sums of up to 129 products in different orders: 1e-5 of the scale.
            EXPECT_TRUE(test::close_to(C_blas, C_plain, 1e-5))
                << "ta=" << int(ta) << " tb=" << int(tb) << " M=" << M << " N=" << N << " K=" << K << " pad=" << pad
                << " variant=" << variant;
            ++cases;
          }
  EXPECT_EQ(cases, 4 * 5 * 2 * 3);
}

class BlasBackend : public ::testing::TestWithParam<BackendCase> {};

// Same bounds as the host orchestration's (tests/test_host_orchestration.cpp): a few float
// roundings per summed term, carried through the steps, far below what a wrong term changes.
constexpr test::Tolerances kBlasTolerances{1e-5, 2e-5, 1e-5};

TEST_P(BlasBackend, MatchesTheReferenceBackend) {
  const BackendCase c = GetParam();
  const test::Problem p = test::make_problem(c);
  detail::OrchestratedBackend<BlasHostPrims> blas(p.config, /*poison=*/true);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  // Larger problems: SGD only (see compare_backends on Adam's sign flips near g = 0).
  test::compare_backends(blas, *cpu, c, p, kBlasTolerances, /*adam=*/c.H * c.B < 1000);
}

std::vector<BackendCase> blas_cases() {
  std::vector<BackendCase> cases;
  uint64_t seed = 200;
  for (Activation a : {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh}) {
    BackendCase full;
    full.activation = a, full.E = 3, full.seed = seed++;
    full.masks = full.noise = full.biases = full.u_per_network = full.regularizers = true;
    full.mask_shape = LossMask::TimeBatch;
    cases.push_back(full);
  }
  BackendCase large;  // big enough for OpenBLAS's blocked and threaded paths
  large.activation = Activation::Tanh, large.E = 2, large.H = 96, large.B = 24, large.T = 12, large.I = 5, large.O = 4;
  large.masks = large.biases = large.noise = true, large.seed = seed++;
  cases.push_back(large);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, BlasBackend, ::testing::ValuesIn(blas_cases()),
                         [](const auto& info) { return test::case_name(info.param); });

}  // namespace
}  // namespace ctrnn
