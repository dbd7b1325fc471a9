// GPU test: each CUDA primitive (host/cuda/cuda_primitives.hpp) against its host twin
// (host_primitives.hpp), which CI already checks through the orchestration. The GEMM test is the
// direct check of the one row-major -> column-major cuBLAS mapping: every transpose pair, padded
// leading dimensions, batch strides including 0 (a broadcast operand), beta 0 over a NaN-filled C
// and beta 1. Skips without a CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <vector>

#include "ctrnn/device.hpp"
#include "cuda/cuda_error.hpp"
#include "cuda/cuda_primitives.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/leaky_step.hpp"
#include "kernels/loss.hpp"
#include "kernels/philox.hpp"
#include "orchestrated/host_primitives.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

using detail::CudaPrims;
using detail::HostPrims;
using detail::Op;

class CudaPrimitives : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
  template <class T>
  cuda::DeviceBuffer<T> to_device(CudaPrims& p, const std::vector<T>& host) {
    cuda::DeviceBuffer<T> d(host.size());
    p.upload(d.data(), host.data(), int64_t(host.size()));
    return d;
  }
  template <class T>
  std::vector<T> to_host(CudaPrims& p, const cuda::DeviceBuffer<T>& d) {
    std::vector<T> h(d.size(), std::numeric_limits<T>::quiet_NaN());
    p.download(h.data(), d.data(), int64_t(h.size()));
    return h;
  }
};

struct GemmCase {
  Op ta, tb;
  int64_t M, N, K, batch;
  int64_t pad;        // extra row stride beyond the minimum, for A, B and C
  bool broadcast_a;   // stride_a = 0
  bool broadcast_b;   // stride_b = 0
  float beta;
};

void run_gemm_case(CudaPrims& cuda, const GemmCase& g, uint64_t seed, MathMode math, double rel) {
  HostPrims host;
  const int64_t a_rows = g.ta == Op::N ? g.M : g.K, a_cols = g.ta == Op::N ? g.K : g.M;
  const int64_t b_rows = g.tb == Op::N ? g.K : g.N, b_cols = g.tb == Op::N ? g.N : g.K;
  const int64_t lda = a_cols + g.pad, ldb = b_cols + g.pad, ldc = g.N + g.pad;
  const int64_t sa = g.broadcast_a ? 0 : a_rows * lda, sb = g.broadcast_b ? 0 : b_rows * ldb, sc = g.M * ldc;
  const auto A = test::random_vector<float>(size_t((g.broadcast_a ? 1 : g.batch) * a_rows * lda), seed);
  const auto B = test::random_vector<float>(size_t((g.broadcast_b ? 1 : g.batch) * b_rows * ldb), seed + 1);
  std::vector<float> C = g.beta == 0 ? std::vector<float>(size_t(g.batch * sc), std::numeric_limits<float>::quiet_NaN())
                                     : test::random_vector<float>(size_t(g.batch * sc), seed + 2);
  cuda::DeviceBuffer<float> dA(A.size()), dB(B.size()), dC(C.size());
  cuda.upload(dA.data(), A.data(), int64_t(A.size()));
  cuda.upload(dB.data(), B.data(), int64_t(B.size()));
  cuda.upload(dC.data(), C.data(), int64_t(C.size()));
  cuda.gemm(g.ta, g.tb, g.M, g.N, g.K, 0.75f, dA.data(), lda, sa, dB.data(), ldb, sb, g.beta, dC.data(), ldc, sc, g.batch);
  std::vector<float> got(C.size());
  cuda.download(got.data(), dC.data(), int64_t(got.size()));
  host.gemm(g.ta, g.tb, g.M, g.N, g.K, 0.75f, A.data(), lda, sa, B.data(), ldb, sb, g.beta, C.data(), ldc, sc, g.batch);
  // Only the matrix entries, not the padding columns (untouched: NaN or random on both sides).
  std::vector<float> got_entries, want_entries;
  for (int64_t i = 0; i < g.batch; ++i)
    for (int64_t m = 0; m < g.M; ++m)
      for (int64_t n = 0; n < g.N; ++n) {
        got_entries.push_back(got[i * sc + m * ldc + n]);
        want_entries.push_back(C[i * sc + m * ldc + n]);
      }
  EXPECT_TRUE(test::close_to(got_entries, want_entries, rel))
      << "ta=" << (g.ta == Op::T) << " tb=" << (g.tb == Op::T) << " M=" << g.M << " N=" << g.N << " K=" << g.K
      << " batch=" << g.batch << " pad=" << g.pad << " broadcast A/B=" << g.broadcast_a << g.broadcast_b
      << " beta=" << g.beta;
}

std::vector<GemmCase> gemm_cases() {
  std::vector<GemmCase> cases;
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 7, 5}, {64, 33, 17}, {257, 64, 100}, {100, 1024, 7}};
  int k = 0;
  for (Op ta : {Op::N, Op::T})
    for (Op tb : {Op::N, Op::T})
      for (const auto& s : shapes) {
        ++k;
        cases.push_back({ta, tb, s[0], s[1], s[2], 1, 0, false, false, 0.0f});
        cases.push_back({ta, tb, s[0], s[1], s[2], 3, k % 3, k % 2 == 0, false, 1.0f});
        cases.push_back({ta, tb, s[0], s[1], s[2], 4, 1, false, true, 0.0f});
      }
  return cases;
}

// float32 against a float32 loop: both round each of K <= 1024 products and sums; cuBLAS sums
// in another (blocked) order. The difference is a few sqrt(K) roundings of the scale of the
// products, below 1e-5 of the result's scale.
TEST_F(CudaPrimitives, GemmMatchesTheHostLoopsFp32) {
  CudaPrims cuda(0, MathMode::FP32);
  uint64_t seed = 1;
  for (const GemmCase& g : gemm_cases()) run_gemm_case(cuda, g, seed += 3, MathMode::FP32, 1e-5);
}

// TF32 rounds each operand to a 10-bit mantissa (relative 2^-11 = 5e-4 per product): products
// of K terms then differ from float32 by ~5e-4 of their scale; 3e-3 allows for K up to 1024.
TEST_F(CudaPrimitives, GemmTf32IsCloseToFp32) {
  CudaPrims cuda(0, MathMode::TF32);
  uint64_t seed = 500;
  for (const GemmCase& g : gemm_cases()) run_gemm_case(cuda, g, seed += 3, MathMode::TF32, 3e-3);
  EXPECT_NE(cuda.description().find("tf32"), std::string::npos);
}

TEST_F(CudaPrimitives, ColumnSumsMatchTheHostLoops) {
  CudaPrims cuda(0, MathMode::FP32);
  HostPrims host;
  for (const auto& s : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 7, 5}, {8, 6400, 64}, {2, 300, 1030}, {70000, 3, 2}}) {
    const int64_t batch = s[0], rows = s[1], cols = s[2], stride_x = rows * cols + 5, stride_out = cols + 2;
    const auto x = test::random_vector<float>(size_t(batch * stride_x), uint64_t(rows + cols));
    auto dx = to_device(cuda, x);
    std::vector<float> out(size_t(batch * stride_out), std::numeric_limits<float>::quiet_NaN());
    auto dout = to_device(cuda, out);
    cuda.column_sums(batch, rows, cols, dx.data(), stride_x, 0.5f, dout.data(), stride_out);
    host.column_sums(batch, rows, cols, x.data(), stride_x, 0.5f, out.data(), stride_out);
    const auto got = to_host(cuda, dout);
    std::vector<float> g, w;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t c = 0; c < cols; ++c) g.push_back(got[b * stride_out + c]), w.push_back(out[b * stride_out + c]);
    // Sums of up to 6400 uniform(-1, 1) terms in float, in two orders: ~sqrt(rows) roundings of
    // the running sum, a few 1e-6 of the largest sum; 1e-4 of the scale (cancellation makes a
    // single sum's relative error meaningless).
    EXPECT_TRUE(test::close_to(g, w, 1e-4)) << batch << "x" << rows << "x" << cols;
  }
}

TEST_F(CudaPrimitives, ReduceMatchesTheHostLoopsAndIsDeterministic) {
  CudaPrims cuda(0, MathMode::FP32);
  HostPrims host;
  for (const auto& s : std::vector<std::array<int64_t, 2>>{{1, 1}, {3, 1000}, {8, 1 << 20}, {70000, 5}}) {
    const int64_t E = s[0], n = s[1];
    const auto x = test::random_vector<float>(size_t(E * n), uint64_t(E + n));
    auto dx = to_device(cuda, x);
    cuda::DeviceBuffer<double> dout{size_t(E)};
    std::vector<double> want(size_t(E), 0.0);
    cuda.reduce(E, n, kernels::SumOfSquares{dx.data(), n}, dout.data(), false);
    const auto first = to_host(cuda, dout);
    cuda.reduce(E, n, kernels::SumOfSquares{dx.data(), n}, dout.data(), true);  // accumulate: twice
    const auto twice = to_host(cuda, dout);
    cuda.reduce(E, n, kernels::SumOfSquares{dx.data(), n}, dout.data(), false);
    EXPECT_EQ(to_host(cuda, dout), first) << "same bits on a second run";
    host.reduce(E, n, kernels::SumOfSquares{x.data(), n}, want.data(), false);
    // Sums in double of float squares: both exact to ~1e-15 relative; 1e-12 is generous.
    EXPECT_TRUE(test::close_to(first, want, 1e-12)) << E << "x" << n;
    for (auto& w : want) w *= 2;
    EXPECT_TRUE(test::close_to(twice, want, 1e-12)) << E << "x" << n;
  }
}

TEST_F(CudaPrimitives, TransfersCopiesAndFills) {
  CudaPrims cuda(0, MathMode::FP32);
  const auto x = test::random_vector<float>(100003, 7);
  auto dx = to_device(cuda, x);
  EXPECT_EQ(to_host(cuda, dx), x);
  cuda::DeviceBuffer<float> dy(x.size());
  cuda.copy(dy.data(), dx.data(), int64_t(x.size()));
  EXPECT_EQ(to_host(cuda, dy), x);
  cuda.apply(int64_t(x.size()), kernels::Fill<float>{dy.data(), 2.5f});
  for (float v : to_host(cuda, dy)) ASSERT_EQ(v, 2.5f);
  const auto d = test::random_vector<double>(77, 8);
  auto dd = to_device(cuda, d);
  EXPECT_EQ(to_host(cuda, dd), d);
}

// The noise the fused step draws on the GPU is the CPU backend's noise: same Philox counters
// (exact integer arithmetic), the same Box-Muller in float; only CUDA's logf/sinf/cosf/sqrtf
// (within 2 ulp of glibc's) differ, a few 1e-7 of values up to 5.8. With first_network f, network
// e draws as network f + e (Config::first_network).
TEST_F(CudaPrimitives, NoiseEqualsTheHostDraws) {
  CudaPrims cuda(0, MathMode::FP32);
  const int64_t E = 8, n = 64 * 257;
  for (RandomPurpose purpose : {RandomPurpose::PreactNoise, RandomPurpose::PostactNoise})
    for (uint32_t step : {0u, 1u, 99u})
      for (uint32_t first : {0u, 5u}) {
        cuda::DeviceBuffer<float> d(size_t(E * n));
        cuda.apply(E * n, kernels::NoiseBody{d.data(), n, 12345, purpose, step, 7, first});
        const auto got = to_host(cuda, d);
        std::vector<float> want(size_t(E * n));
        for (int64_t e = 0; e < E; ++e)
          for (int64_t i = 0; i < n; ++i)
            want[e * n + i] = RandomStream(12345, purpose, uint32_t(e) + first, step, 7).normal(uint32_t(i));
        EXPECT_TRUE(test::all_close(got, want, 4e-6, 1e-6)) << "step " << step << ", first_network " << first;
      }
}

TEST_F(CudaPrimitives, ErrorsThrowNamingTheCall) {
  CudaPrims cuda(0, MathMode::FP32);
  // An impossible allocation fails with cudaErrorMemoryAllocation, reported as an exception.
  try {
    cuda::DeviceBuffer<float> huge(size_t(1) << 50);
    FAIL() << "a 4 PiB allocation succeeded";
  } catch (const cuda::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMalloc"), std::string::npos) << e.what();
  }
  // The device is still usable afterwards, and the failed allocation is not blamed on the next
  // kernel: its launch check (cudaGetLastError) finds nothing (before: cudaErrorMemoryAllocation).
  const auto x = test::random_vector<float>(10, 1);
  auto dx = to_device(cuda, x);
  EXPECT_EQ(to_host(cuda, dx), x);
  try {
    cuda::DeviceBuffer<float> huge(size_t(1) << 50);
  } catch (const cuda::CudaError&) {
  }
  EXPECT_NO_THROW(cuda.apply(10, kernels::Fill<float>{dx.data(), 1.0f}));
  EXPECT_EQ(to_host(cuda, dx), std::vector<float>(10, 1.0f));
}

// Column sums over a million rows (T B = 1M, as at T = 1000, B = 1024): each thread adds 32K
// terms. Summed in double, the result is the exact sum rounded once (relative 6e-8); a float
// running sum of 32K values of 0.1 drifts by ~1e-4 relative (what this caught before).
TEST_F(CudaPrimitives, ColumnSumsOfAMillionRowsStayAccurate) {
  CudaPrims cuda(0, MathMode::FP32);
  const int64_t rows = 1 << 20, cols = 3;
  std::vector<float> x(size_t(rows * cols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f + float(i % 7) * 1e-3f;
  auto dx = to_device(cuda, x);
  cuda::DeviceBuffer<float> dout{size_t(cols)};
  cuda.column_sums(1, rows, cols, dx.data(), rows * cols, 1.0f, dout.data(), cols);
  const auto got = to_host(cuda, dout);
  double max_rel = 0;
  for (int64_t c = 0; c < cols; ++c) {
    double exact = 0;
    for (int64_t r = 0; r < rows; ++r) exact += double(x[size_t(r * cols + c)]);
    max_rel = std::max(max_rel, std::abs(double(got[size_t(c)]) - exact) / exact);
  }
  std::cout << "[ deviation ] column sums over 2^20 rows: largest relative " << max_rel << "\n";
  EXPECT_LT(max_rel, 2e-7);
}

// The input and readout GEMMs at (H, B, T) = (4096, 1024, 1000) write 4.2e9 > 2^31 elements in
// one strided-batched call. One such call (K = I = 3, C of 17 GB), sampled at rows beyond the 2^31st
// element against host dot products of the same 3 float terms (K = 3: exact to 2 roundings).
TEST_F(CudaPrimitives, GemmBeyond2To31Elements) {
  CudaPrims cuda(0, MathMode::FP32);
  const int64_t M = 1024 * 1000, N = 4096, K = 3;
  const int64_t bytes_needed = (M * N + M * K + K * N) * int64_t(sizeof(float));
  if (cuda.memory_available() < bytes_needed) GTEST_SKIP() << "needs " << bytes_needed << " bytes of device memory";
  const auto A = test::random_vector<float>(size_t(M * K), 91);
  const auto B = test::random_vector<float>(size_t(K * N), 92);
  auto dA = to_device(cuda, A), dB = to_device(cuda, B);
  cuda::DeviceBuffer<float> dC(size_t(M * N));
  cuda.gemm(Op::N, Op::N, M, N, K, 1.0f, dA.data(), K, 0, dB.data(), N, 0, 0.0f, dC.data(), N, 0, 1);
  double worst = 0;
  for (int64_t m : {int64_t(0), (int64_t(1) << 31) / N + 1, M / 2, M - 1}) {
    std::vector<float> row(static_cast<size_t>(N));
    cuda.download(row.data(), dC.data() + m * N, N);
    for (int64_t n = 0; n < N; ++n) {
      double want = 0;
      for (int64_t k = 0; k < K; ++k) want += double(A[size_t(m * K + k)]) * double(B[size_t(k * N + n)]);
      worst = std::max(worst, std::abs(double(row[size_t(n)]) - want));
    }
  }
  std::cout << "[ deviation ] GEMM with 4.2e9 outputs: largest absolute " << worst << "\n";
  EXPECT_LT(worst, 1e-6);  // |terms| < 1, 3 products: a few 6e-8 roundings
}

}  // namespace
}  // namespace ctrnn
