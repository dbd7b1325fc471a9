// The small products' kernel (host/orchestrated/small_gemm.hpp) on each instruction set this CPU
// has, forced one at a time: against a plain loop that does the kernel's arithmetic in its order
// (per element: fmaf over k ascending from 0, then times alpha, then plus beta C), so the results
// must be equal bit for bit, which needs no tolerance; over shapes with N not a multiple of the
// vector width (masked last vectors), row counts that leave partial row blocks, one row, K = 0,
// padded (ragged) rows in A, B and C, NaN-poisoned C for beta = 0 (C must not be read), and the
// padding between C's rows left untouched. The CPU backend's whole GEMM against HostPrims's loops
// with the kernel inside is BlasGemm.EqualsThePlainLoops (test_blas_backend.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "orchestrated/small_gemm.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using detail::GemmIsa;

uint32_t bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// The kernel's arithmetic, element by element.
void plain(bool ta, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc = std::fma(ta ? A[k * lda + i] : A[i * lda + k], B[k * ldb + j], acc);
      if (alpha != 1.0f) acc = alpha * acc;
      if (beta == 1.0f) acc = acc + C[i * ldc + j];
      else if (beta != 0.0f) acc = acc + beta * C[i * ldc + j];
      C[i * ldc + j] = acc;
    }
}

class SmallGemm : public ::testing::TestWithParam<GemmIsa> {};

TEST_P(SmallGemm, EqualsThePlainLoopBitForBit) {
  const GemmIsa isa = GetParam();
  if (!detail::small_gemm_isa_available(isa)) GTEST_SKIP() << "this CPU lacks the instruction set";
  int cases = 0;
  for (bool ta : {false, true})
    for (int64_t M : {1, 2, 5, 6, 7, 8, 13, 19, 32, 70})  // 70: N = 1's 64-row groups
      for (int64_t N : {1, 2, 3, 4, 5, 8, 15, 16, 17, 31, 33, 64, 65, 100, 128, 130})
        for (int64_t K : {0, 1, 7, 64, 96, 129})  // 96, 129: cut into chunks of K (with beta 0)
          for (int variant = 0; variant < 5; ++variant) {
            const float alpha = variant >= 3 ? 0.75f : 1.0f;
            const float beta = variant == 0 || variant == 4 ? 0.0f : variant == 2 ? 0.5f : 1.0f;
            const int64_t pad = variant % 2 == 0 ? 0 : 3;  // ragged rows: strides beyond the rows' lengths
            const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
            const int64_t lda = a_cols + pad, ldb = N + pad, ldc = N + pad;
            const auto A = test::random_vector<float>(size_t(std::max<int64_t>(a_rows * lda, 1)), 10 + cases);
            const auto B = test::random_vector<float>(size_t(std::max<int64_t>(K * ldb, 1)), 20 + cases);
            auto C = test::random_vector<float>(size_t(M * ldc), 30 + cases);
            for (int64_t i = 0; i < M; ++i)  // the padding holds a marker that must survive
              for (int64_t j = N; j < ldc; ++j) C[size_t(i * ldc + j)] = -7.0f;
            if (beta == 0.0f)  // C is not read: NaN there must not reach the result
              for (int64_t i = 0; i < M; ++i)
                for (int64_t j = 0; j < N; ++j) C[size_t(i * ldc + j)] = std::nanf("");
            auto expected = C;
            plain(ta, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, expected.data(), ldc);
            detail::small_sgemm(ta, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc, isa);
            for (size_t x = 0; x < C.size(); ++x)
              ASSERT_EQ(bits(C[x]), bits(expected[x]))
                  << "ta " << ta << " M " << M << " N " << N << " K " << K << " variant " << variant << " element "
                  << x << ": " << C[x] << " vs " << expected[x];
            ++cases;
          }
  EXPECT_EQ(cases, 2 * 10 * 16 * 6 * 5);
}

INSTANTIATE_TEST_SUITE_P(Isa, SmallGemm, ::testing::Values(GemmIsa::Avx2, GemmIsa::Avx512),
                         [](const auto& info) { return info.param == GemmIsa::Avx2 ? "Avx2" : "Avx512"; });

// The CPU this suite runs on in CI and here has AVX2 (x86-64 since 2013); a build or CPU without
// it would silently test nothing above, so say so.
TEST(SmallGemm, SomeInstructionSetIsTested) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  EXPECT_TRUE(detail::small_gemm_isa_available(GemmIsa::Avx2)) << "no AVX2: the kernel is never used here";
#else
  GTEST_SKIP() << "no kernel in this build (not x86-64 GCC): OpenBLAS computes every product";
#endif
}

// The shapes it takes (small_gemm.cpp: measured): the per-step products, dW_in, the small pieces
// of dW_hid, dW_out and (AVX2) the readout; not big products.
TEST(SmallGemm, TakesTheMeasuredShapes) {
  if (!detail::small_gemm_isa_available(GemmIsa::Avx2)) GTEST_SKIP() << "no kernel on this CPU";
  EXPECT_TRUE(detail::small_sgemm_takes(false, 32, 64, 64));     // step, H = 64
  EXPECT_TRUE(detail::small_sgemm_takes(false, 64, 256, 256));   // step, H = 256
  EXPECT_TRUE(detail::small_sgemm_takes(true, 4, 64, 3200));     // dW_in
  EXPECT_TRUE(detail::small_sgemm_takes(true, 64, 64, 800));     // a piece of dW_hid
  EXPECT_TRUE(detail::small_sgemm_takes(false, 3200, 64, 4));    // input drive, K = I
  // readout (N = O small): the narrow kernel, measured faster on an AVX2 CPU only
  EXPECT_TRUE(detail::small_sgemm_takes(false, 3200, 4, 64, GemmIsa::Avx2));
  EXPECT_TRUE(detail::small_sgemm_takes(false, 3200, 1, 256, GemmIsa::Avx2));
  EXPECT_FALSE(detail::small_sgemm_takes(false, 3200, 4, 64, GemmIsa::Avx512));
  EXPECT_FALSE(detail::small_sgemm_takes(false, 3200, 8, 64, GemmIsa::Avx2));  // past the narrow kernel's 4
  EXPECT_FALSE(detail::small_sgemm_takes(false, 3200, 4, 8, GemmIsa::Avx2));   // K < 16: not measured, OpenBLAS's
  EXPECT_TRUE(detail::small_sgemm_takes(true, 64, 4, 3200));     // dW_out, as (gy^T r)^T
  EXPECT_FALSE(detail::small_sgemm_takes(true, 256, 4, 3200));   // dW_out at H = 256: (gy^T r) has N = 256, past 128
  EXPECT_FALSE(detail::small_sgemm_takes(true, 128, 128, 800));  // A too large
  EXPECT_FALSE(detail::small_sgemm_takes(false, 256, 1024, 1024));
  EXPECT_FALSE(detail::small_sgemm_takes(false, 32, 64, 64, GemmIsa::None));
}

// Both instruction sets run the same FMAs in the same order per element: the same bits.
TEST(SmallGemm, Avx2AndAvx512GiveTheSameBits) {
  if (!detail::small_gemm_isa_available(GemmIsa::Avx512)) GTEST_SKIP() << "this CPU lacks AVX-512";
  const int64_t M = 37, N = 100, K = 77;
  const auto A = test::random_vector<float>(size_t(M * K), 1), B = test::random_vector<float>(size_t(K * N), 2);
  auto C2 = test::random_vector<float>(size_t(M * N), 3);
  auto C512 = C2;
  detail::small_sgemm(false, M, N, K, 1.0f, A.data(), K, B.data(), N, 1.0f, C2.data(), N, GemmIsa::Avx2);
  detail::small_sgemm(false, M, N, K, 1.0f, A.data(), K, B.data(), N, 1.0f, C512.data(), N, GemmIsa::Avx512);
  for (size_t x = 0; x < C2.size(); ++x) ASSERT_EQ(bits(C2[x]), bits(C512[x])) << x;
}

}  // namespace
}  // namespace ctrnn
