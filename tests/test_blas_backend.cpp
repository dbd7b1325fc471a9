// The float CPU backend over OpenBLAS (host/orchestrated/blas_primitives.hpp): its GEMM against
// the plain host loops for every transpose, padding, broadcast and beta, on 1 to 3 threads; its
// fused row loops (host_fused_steps.hpp) and threaded passes against the kernel bodies run
// element by element; the whole backend (forward, loss, BPTT, optimizer steps, growth, keep mode)
// against the reference CPU backend, single- and multi-threaded; and determinism at a fixed
// thread count (a resumed run equals an uninterrupted one bit for bit), and the same bits on any
// thread count (every sum cut by the problem's shape, never by the thread count).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "orchestrated/blas_primitives.hpp"
#include "orchestrated/host_fused_steps.hpp"
#include "orchestrated/network_parallel_backend.hpp"
#include "orchestrated/openblas_api.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn::detail {
// A fused-loop instruction set by name in gtest's messages.
void PrintTo(FusedIsa isa, std::ostream* os) { *os << fused_isa_name(isa); }
}  // namespace ctrnn::detail

namespace ctrnn {
namespace {

using detail::BlasHostPrims;
using detail::NetworkParallelBackend;
using detail::parallel_ranges;
using detail::HostPrims;
using detail::Op;
using test::BackendCase;

// Shapes: tiny, odd, K = 0, and products large enough (> 2 x 2 MFLOP) for the backend to cut
// into row blocks (M > N: {520, 40, 150}), column blocks ({64, 300, 130}) or blocks of the sum
// over K ({40, 40, 4096}; piece 0 takes beta C) on 2 and 3 threads, one per batch item or several
// (batch 3 on 2 threads: 2 blocks each).
TEST(BlasGemm, EqualsThePlainLoops) {
  int cases = 0;
  for (int threads : {1, 2, 3})
  for (Op ta : {Op::N, Op::T})
    for (Op tb : {Op::N, Op::T})
      for (const auto& s : std::vector<std::array<int64_t, 3>>{
               {1, 1, 1}, {3, 7, 5}, {17, 9, 2}, {70, 65, 129}, {5, 3, 0}, {520, 40, 150}, {64, 300, 130},
               {40, 40, 4096}})
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
            BlasHostPrims(threads).gemm(ta, tb, M, N, K, 0.75f, A.data(), lda, sa, B.data(), ldb, sb, beta,
                                        C_blas.data(), ldc, sc, batch);
            // Rows of C outside the N columns (padding) are left alone by both; compare all.
            // float32 sums of up to 4096 products in different orders: 1e-5 of the scale (a few
            // hundred roundings of 6e-8 each at most, relative to the largest element).
            EXPECT_TRUE(test::close_to(C_blas, C_plain, 1e-5))
                << "threads=" << threads << " ta=" << int(ta) << " tb=" << int(tb) << " M=" << M << " N=" << N
                << " K=" << K << " pad=" << pad << " variant=" << variant;
            ++cases;
          }
  EXPECT_EQ(cases, 3 * 4 * 8 * 2 * 3);
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
  // Larger problems and learned time constants: SGD only (see compare_backends on Adam's sign
  // flips near g = 0, and HostOrchestration.MatchesTheCpuBackend on learn_tau).
  test::compare_backends(blas, *cpu, c, p, kBlasTolerances, /*adam=*/c.H * c.B < 1000 && !c.learn_tau);
}

// The CPU backend of ensembles (make_host_backend, E > 1): each network as its own one-network
// backend, the networks on 2 threads.
TEST_P(BlasBackend, NetworkByNetworkMatchesTheReferenceBackend) {
  const BackendCase c = GetParam();
  const test::Problem p = test::make_problem(c);
  NetworkParallelBackend blas(p.config, /*poison=*/true, /*threads=*/2);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  test::compare_backends(blas, *cpu, c, p, kBlasTolerances, /*adam=*/c.H * c.B < 1000 && !c.learn_tau);
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
    full.learn_tau = true, full.seed = 1000 + seed;  // a seed of its own: the others keep theirs
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

// Bit-for-bit equality, naming the first difference.
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "size " << a.size() << " != " << b.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "first difference at " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

// Every product gives the same bits on 1 to 4 threads: it is cut into pieces by its shape, and
// the threads only choose who computes which piece. Shapes: the products of a step of E = 3
// networks with B = 100, H = 112 (the recurrence, the weight gradient over K = T B = 400), which
// a cut by thread count summed differently on 2 threads, and the row-, column- and sum-cut ones
// (BlasGemm.CutsByShapeAtACostOfAFewPercent).
TEST(BlasGemm, TheThreadCountDoesNotChangeOneBit) {
  for (const auto& s : std::vector<std::array<int64_t, 4>>{{100, 112, 112, 3},
                                                            {112, 112, 400, 3},
                                                            {112, 112, 400, 1},
                                                            {520, 40, 150, 1},
                                                            {64, 300, 130, 3},
                                                            {40, 40, 4096, 1},
                                                            {40, 40, 4096, 3},
                                                            {112, 112, 4096, 1}})
    for (Op ta : {Op::N, Op::T}) {
      const int64_t M = s[0], N = s[1], K = s[2], batch = s[3];
      const int64_t lda = ta == Op::N ? K : M, a_rows = ta == Op::N ? M : K;
      const auto A = test::random_vector<float>(size_t(batch * a_rows * lda), 61);
      const auto B = test::random_vector<float>(size_t(batch * K * N), 62);
      std::vector<float> one;
      for (int threads : {1, 2, 3, 4}) {
        std::vector<float> C(size_t(batch * M * N), std::nanf(""));
        BlasHostPrims(threads).gemm(ta, Op::N, M, N, K, 1.0f, A.data(), lda, a_rows * lda, B.data(), N, K * N, 0.0f,
                                    C.data(), N, M * N, batch);
        if (threads == 1) one = C;
        EXPECT_TRUE(same_bits(C, one)) << "M=" << M << " N=" << N << " K=" << K << " batch=" << batch
                                       << " ta=" << int(ta) << " threads=" << threads;
      }
    }
}

// The cut of each product (blas_gemm.cpp's cut_of): the pieces a shape gets, and along which
// dimension. Those of a training step at (H, B, T) = (256, 64, 200), E = 1: the per-step product
// B x H x H is cut in two blocks of columns (four, as before, repacked the B x H state three more
// times per step: 16-44% of a one-thread step, bench/RESULTS.md); the weight gradient H x H over
// K = T B in 16 blocks of the sum (blocks of columns would repack the H x T B rates each time).
TEST(BlasGemm, CutsByShapeAtACostOfAFewPercent) {
  using detail::blas_gemm_cut;
  using detail::GemmCut;
  const auto is = [](GemmCut c, GemmCut::Along along, int64_t pieces) {
    return c.along == along && c.pieces == pieces;
  };
  EXPECT_TRUE(is(blas_gemm_cut(64, 256, 256, 1), GemmCut::Columns, 2));     // r_{t-1} W_hid, dv W_hid^T
  EXPECT_TRUE(is(blas_gemm_cut(256, 256, 12800, 1), GemmCut::Depth, 16));   // dW_hid
  EXPECT_TRUE(is(blas_gemm_cut(12800, 256, 4, 1), GemmCut::Rows, 8));       // u W_in over all steps
  EXPECT_TRUE(is(blas_gemm_cut(40, 40, 4096, 1), GemmCut::Depth, 4));
  EXPECT_TRUE(is(blas_gemm_cut(520, 40, 150, 1), GemmCut::Rows, 2));
  EXPECT_TRUE(is(blas_gemm_cut(64, 300, 130, 1), GemmCut::Columns, 2));
  EXPECT_EQ(blas_gemm_cut(32, 64, 64, 1).pieces, 1);        // 0.26 MFLOP: whole
  EXPECT_EQ(blas_gemm_cut(64, 256, 256, 64).pieces, 1);     // an ensemble: cut by network only
  EXPECT_EQ(blas_gemm_cut(1024, 1024, 51200, 1).pieces, 4);  // the partial sums' buffer (16 MiB) bounds it
}

// OpenBLAS runs on one thread while a product of ours runs and gets the user's count back after,
// also when products of several threads overlap (the guard is counted): a count left at 1 would
// make every later product of the backend, and of the user's own OpenBLAS calls, single-threaded.
TEST(BlasGemm, OpenBlasGetsItsThreadCountBack) {
  const int saved = CTRNN_OPENBLAS(openblas_get_num_threads)();
  CTRNN_OPENBLAS(openblas_set_num_threads)(3);
  const auto A = test::random_vector<float>(size_t(200 * 200), 71), B = test::random_vector<float>(size_t(200 * 200), 72);
  auto product = [&] {
    std::vector<float> C(size_t(200 * 200));
    for (int i = 0; i < 20; ++i)
      BlasHostPrims().gemm(Op::N, Op::N, 200, 200, 200, 1.0f, A.data(), 200, 0, B.data(), 200, 0, 0.0f, C.data(), 200, 0, 1);
  };
  EXPECT_EQ(BlasHostPrims().threads(), 3);
  std::thread other(product);
  product();
  other.join();
  EXPECT_EQ(CTRNN_OPENBLAS(openblas_get_num_threads)(), 3);
  EXPECT_EQ(BlasHostPrims().threads(), 3);
  CTRNN_OPENBLAS(openblas_set_num_threads)(saved);
}

// The pool (host_parallel.hpp): each range of the fixed cut [n k / parts, n (k + 1) / parts) runs
// exactly once, also when several threads start jobs at once (a caller that finds the pool busy
// runs its ranges itself) and over many jobs in a row (workers sleeping and waking).
TEST(HostThreads, EachRangeOfTheCutRunsOnceFromConcurrentCallers) {
  constexpr int kCallers = 4, kJobs = 300;
  std::atomic<int> failures{0};
  auto caller = [&](int id) {
    for (int job = 0; job < kJobs; ++job) {
      const int parts = 1 + (job + id) % 4;
      const int64_t n = 1 + (job * 37 + id) % 1000;
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      std::mutex m;
      std::set<std::pair<int64_t, int64_t>> ranges;
      parallel_ranges(parts, n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) seen[size_t(i)].fetch_add(1);
        std::lock_guard<std::mutex> lock(m);
        ranges.insert({begin, end});
      });
      std::set<std::pair<int64_t, int64_t>> cut;
      const int64_t p = std::min<int64_t>(parts, n);
      for (int64_t k = 0; k < p; ++k) cut.insert({n * k / p, n * (k + 1) / p});
      bool ok = ranges == cut;
      for (auto& x : seen) ok = ok && x.load() == 1;
      if (!ok) failures.fetch_add(1);
      if (job % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));  // let workers sleep
    }
  };
  std::vector<std::thread> callers;
  for (int id = 0; id < kCallers; ++id) callers.emplace_back(caller, id);
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0) << "jobs whose ranges were not the fixed cut, each index once";
}

// The fused row loops (host_fused_steps.hpp) and the threaded passes compute what the kernel
// bodies compute element by element (HostPrims's loops): the same operations in the same order,
// so the same bits, and nothing outside the body's outputs is written (whole arrays compared).
// Shapes (E, B, H): single elements, odd H, several networks, and one of 3 x 70 x 157 = 33K
// elements, which BlasHostPrims cuts into 2 and 3 row ranges.
struct StepShape {
  int64_t E, B, H;
};
const StepShape kStepShapes[] = {{1, 1, 1}, {1, 5, 37}, {3, 4, 33}, {3, 70, 157}};
const Activation kActivations[] = {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh};

// Each test runs once per instruction set of the fused loops (host_fused_steps.hpp), the
// widest the CPU has being what the backend runs; a set the CPU lacks is skipped.
class BlasFusedRows : public ::testing::TestWithParam<detail::FusedIsa> {
 protected:
  void SetUp() override {
    if (!detail::fused_isa_supported(GetParam())) GTEST_SKIP() << "this CPU lacks the instruction set";
    detail::set_fused_isa(GetParam());
  }
  void TearDown() override { detail::set_fused_isa(running_); }
  const detail::FusedIsa running_ = detail::fused_isa();
};

TEST_P(BlasFusedRows, EqualTheKernelBodiesBitForBit) {
  constexpr int64_t T = 3, t = 2;  // the step t of a (E, T+1, B, H) state
  uint64_t seed = 500;
  for (const StepShape& sh : kStepShapes)
    for (Activation act : kActivations)
      for (int threads : {1, 2, 3}) {
        const int64_t E = sh.E, B = sh.B, H = sh.H, BH = B * H, state = (T + 1) * BH, n = E * BH;
        const std::string where = "E=" + std::to_string(E) + " B=" + std::to_string(B) + " H=" + std::to_string(H) +
                                  " " + to_string(act) + " threads=" + std::to_string(threads);
        const auto work = test::random_vector<float>(size_t(E * T * BH), ++seed, -2, 2);
        const auto gr = test::random_vector<float>(size_t(E * T * BH), ++seed, -0.5, 0.5);
        const auto bias_in = test::random_vector<float>(size_t(E * H), ++seed), bias_hid = test::random_vector<float>(size_t(E * H), ++seed);
        const auto kept = test::random_vector<float>(size_t(n), ++seed, -2, 2);
        auto v = test::random_vector<float>(size_t(E * state), ++seed, -2, 2);
        for (size_t i = 0; i < v.size(); i += 7) v[i] = 0.0f;  // the ties of ReLU' and ReTanh'
        const auto r0 = test::random_vector<float>(size_t(E * state), ++seed), dv0 = test::random_vector<float>(size_t(E * state), ++seed);
        // alpha per network and neuron; sigmas per network, network 0 without noise (draws none)
        const auto alpha = test::random_vector<float>(size_t(E * H), ++seed, 0.05, 1.0);
        std::vector<float> pre(size_t(E), 0.3f), post(size_t(E), 0.05f), none(size_t(E), 0.0f);
        pre[0] = post[0] = 0.0f;
        HostPrims plain;
        BlasHostPrims fused(threads);

        const uint32_t call = 4;  // the forward call (read through a pointer, as the backend passes it)
        for (bool noise : {false, true}) {  // forward step t
          std::vector<float> v_plain = v, v_fused = v, r_plain = r0, r_fused = r0;
          auto body = [&](std::vector<float>& vv, std::vector<float>& rr) {
            return kernels::LeakyStepForward{work.data() + (t - 1) * BH, T * BH, bias_in.data(), bias_hid.data(),
                                             vv.data() + (t - 1) * BH, vv.data() + t * BH, rr.data() + t * BH, state, B,
                                             H, alpha.data(), noise ? pre.data() : none.data(),
                                             noise ? post.data() : none.data(), act, 99, uint32_t(t - 1), &call};
          };
          plain.apply(n, body(v_plain, r_plain));
          fused.apply(n, body(v_fused, r_fused));
          EXPECT_TRUE(same_bits(v_fused, v_plain)) << "forward v, " << where << " noise=" << noise;
          EXPECT_TRUE(same_bits(r_fused, r_plain)) << "forward r, " << where << " noise=" << noise;
        }
        for (bool with_gr : {false, true})  // backward step t, and the last step (no dv_{t+1})
          for (bool last : {false, true}) {
            std::vector<float> dv_plain = dv0, dv_fused = dv0, dr_plain = work, dr_fused = work;
            auto body = [&](std::vector<float>& dv, std::vector<float>& dr) {  // dr replaced by alpha * dv
              return kernels::LeakyStepBackward{dr.data() + (t - 1) * BH, T * BH,
                                                with_gr ? gr.data() + (t - 1) * BH : nullptr, T * BH, v.data() + t * BH,
                                                last ? nullptr : dv.data() + (t + 1) * BH, dv.data() + t * BH, state, B, H,
                                                alpha.data(), act, !last};
            };
            plain.apply(n, body(dv_plain, dr_plain));
            fused.apply(n, body(dv_fused, dr_fused));
            EXPECT_TRUE(same_bits(dv_fused, dv_plain)) << "backward dv, " << where << " gr=" << with_gr << " last=" << last;
            EXPECT_TRUE(same_bits(dr_fused, dr_plain)) << "alpha * dv, " << where << " gr=" << with_gr << " last=" << last;
            EXPECT_EQ(dr_plain == work, last) << "replaced only when asked";
          }
        for (int initial = 0; initial < 3; ++initial) {  // h0, kept, zero
          std::vector<float> v_plain = v, v_fused = v, r_plain = r0, r_fused = r0;
          auto body = [&](std::vector<float>& vv, std::vector<float>& rr) {
            return kernels::InitialStateBody{initial == 0 ? bias_in.data() : nullptr, initial == 1 ? kept.data() : nullptr,
                                             vv.data(), rr.data(), state, B, H, act};
          };
          plain.apply(n, body(v_plain, r_plain));
          fused.apply(n, body(v_fused, r_fused));
          EXPECT_TRUE(same_bits(v_fused, v_plain)) << "initial v, " << where << " initial=" << initial;
          EXPECT_TRUE(same_bits(r_fused, r_plain)) << "initial r, " << where << " initial=" << initial;
        }
        {  // the readout bias over (E, T B, 3) and a body without a row form (index ranges)
          const int64_t rows = T * B, cols = 3;
          std::vector<float> y_plain(size_t(E * rows * cols), 7.0f), y_fused = y_plain;
          const auto bias_out = test::random_vector<float>(size_t(E * cols), 77);  // (E, cols): bias_in is too short when H < 3
          plain.apply(E * rows * cols, kernels::BroadcastRows{y_plain.data(), bias_out.data(), rows, cols});
          fused.apply(E * rows * cols, kernels::BroadcastRows{y_fused.data(), bias_out.data(), rows, cols});
          EXPECT_TRUE(same_bits(y_fused, y_plain)) << "readout bias, " << where;
          std::vector<float> sum_plain = v, sum_fused = v;
          plain.apply(E * state, kernels::AddInto{sum_plain.data(), dv0.data()});
          fused.apply(E * state, kernels::AddInto{sum_fused.data(), dv0.data()});
          EXPECT_TRUE(same_bits(sum_fused, sum_plain)) << "AddInto, " << where;
        }
      }
}

// The loss's and optimizer's passes by network (host_fused_steps.hpp: MseGrad, OptimizerUpdate,
// UpdateNonFinite) equal the bodies element by element (HostPrims) bit for bit: every mask shape
// and a shared or per-network target; Adam and SGD (with momentum, first step or not), with and
// without plasticity, clipping (a factor below 1) and weight decay, a gate that holds network 1
// back, and values that overflow (the non-finite counts are not all 0).
TEST_P(BlasFusedRows, LossAndOptimizerPassesEqualTheKernelBodiesBitForBit) {
  uint64_t seed = 900;
  for (int threads : {1, 2, 3})
    for (const auto& shape : std::vector<std::array<int64_t, 2>>{{1, 1}, {3, 37}, {2, 9000}}) {
      const int64_t E = shape[0], n = shape[1], O = 3;
      const int64_t TBO = n * O;  // MseGrad's n: T B O, a multiple of O
      const std::string where = "E=" + std::to_string(E) + " n=" + std::to_string(n) + " threads=" + std::to_string(threads);
      HostPrims plain;
      BlasHostPrims fused(threads);
      std::vector<body::NetworkCoeffs> coeffs(static_cast<size_t>(E));
      for (int64_t e = 0; e < E; ++e) {
        body::NetworkCoeffs& c = coeffs[size_t(e)];
        c.adam = {0.9, 0.999, 1e-8, e == 0 ? 0.0 : 0.01, 1e-3 / (1 - 0.9 * 0.9), std::sqrt(1 - 0.999 * 0.999)};
        c.lr = 0.05, c.momentum = e == 0 ? 0.0 : 0.9, c.weight_decay = e == 0 ? 0.0 : 0.02;
        c.clip = e == 1 ? 0.0 : 0.5;  // network 0 and 2 clip (their norms below exceed 0.5)
        for (double& l : c.lambda) l = 0.5 + double(e);
      }
      // MseGrad
      std::vector<double> stats(size_t(kernels::kNumStats * E), 0.0);
      for (int64_t e = 0; e < E; ++e) stats[size_t(kernels::kStatMseDen * E + e)] = 3.0 + double(e);
      const auto y = test::random_vector<float>(size_t(E * TBO), ++seed, -2, 2);
      const auto target = test::random_vector<float>(size_t(E * TBO), ++seed, -2, 2);
      const auto mask = test::random_vector<float>(size_t(TBO), ++seed, 0, 1);
      for (LossMask mask_shape : {LossMask::None, LossMask::TimeBatch, LossMask::TimeBatchOutput})
        for (int64_t target_stride : {int64_t(0), TBO}) {
          std::vector<float> gy_plain(size_t(E * TBO), 7.0f), gy_fused = gy_plain;
          auto body = [&](std::vector<float>& gy) {
            return kernels::MseGrad{y.data(), target.data(), target_stride, mask_shape == LossMask::None ? nullptr : mask.data(),
                                    mask_shape, TBO, O, stats.data(), E, coeffs.data(), gy.data()};
          };
          plain.apply(E * TBO, body(gy_plain));
          fused.apply(E * TBO, body(gy_fused));
          EXPECT_TRUE(same_bits(gy_fused, gy_plain)) << "MseGrad, " << where << " mask " << int(mask_shape)
                                                      << " target stride " << target_stride;
        }
      // OptimizerUpdate and UpdateNonFinite over two arrays (n and n + 5 elements per network)
      const std::vector<double> norm_sq = [&] {
        std::vector<double> x(static_cast<size_t>(E));
        for (int64_t e = 0; e < E; ++e) x[size_t(e)] = 4.0 + double(e);
        return x;
      }();
      std::vector<double> gate(size_t(E), 1.0);
      if (E > 1) gate[1] = 0.0;
      for (kernels::UpdateKind kind : {kernels::UpdateKind::Adam, kernels::UpdateKind::SGD})
        for (bool plastic : {false, true})
          for (bool first_step : {false, true})
            for (bool decay : {false, true}) {
              const int64_t sizes[2] = {n, n + 5};
              std::vector<float> p[2], g[2], m[2], v[2], plasticity[2];
              kernels::UpdateNonFinite check{};
              for (int a = 0; a < 2; ++a) {
                const size_t total = size_t(E * sizes[a]);
                p[a] = test::random_vector<float>(total, ++seed, -1, 1);
                g[a] = test::random_vector<float>(total, ++seed, -3, 3);
                m[a] = test::random_vector<float>(total, ++seed, -0.1, 0.1);
                v[a] = test::random_vector<float>(total, ++seed, 0, 0.1);
                plasticity[a] = test::random_vector<float>(total, ++seed, 0, 1);
                for (size_t i = 0; i < total; i += 11) g[a][i] = 3e38f;  // overflows g * g: non-finite moments
                check.arrays[a] = kernels::OptimizerUpdate{p[a].data(), g[a].data(), m[a].data(), v[a].data(),
                                                           plastic ? plasticity[a].data() : nullptr, sizes[a],
                                                           norm_sq.data(), kind, coeffs.data(), first_step, gate.data(),
                                                           decay};
                check.offset[a + 1] = check.offset[a] + sizes[a];
              }
              for (int a = 3; a <= kernels::kMaxUpdateArrays; ++a) check.offset[a] = check.offset[2];
              const std::string what = where + " kind=" + std::to_string(int(kind)) + " plastic=" + std::to_string(plastic) +
                                       " first=" + std::to_string(first_step) + " decay=" + std::to_string(decay);
              for (bool accumulate : {false, true}) {
                std::vector<double> bad_plain(size_t(E), 2.0), bad_fused = bad_plain;
                plain.reduce(E, check.offset[2], check, bad_plain.data(), accumulate);
                fused.reduce(E, check.offset[2], check, bad_fused.data(), accumulate);
                EXPECT_EQ(bad_fused, bad_plain) << "UpdateNonFinite, " << what;
                if (kind == kernels::UpdateKind::Adam && !accumulate) EXPECT_GT(bad_plain[0], 0.0) << "no overflow tested";
              }
              for (int a = 0; a < 2; ++a) {
                std::vector<float> p_fused = p[a], m_fused = m[a], v_fused = v[a];
                kernels::OptimizerUpdate fused_body = check.arrays[a];
                fused_body.p = p_fused.data(), fused_body.m = m_fused.data(), fused_body.v = v_fused.data();
                plain.apply(E * sizes[a], check.arrays[a]);  // in place in p, m, v
                fused.apply(E * sizes[a], fused_body);
                EXPECT_TRUE(same_bits(p_fused, p[a])) << "update p, array " << a << ", " << what;
                EXPECT_TRUE(same_bits(m_fused, m[a])) << "update m, array " << a << ", " << what;
                EXPECT_TRUE(same_bits(v_fused, v[a])) << "update v, array " << a << ", " << what;
              }
            }
    }
}

std::string isa_name(const ::testing::TestParamInfo<detail::FusedIsa>& info) { return detail::fused_isa_name(info.param); }
INSTANTIATE_TEST_SUITE_P(Isa, BlasFusedRows,
                         ::testing::Values(detail::FusedIsa::Portable, detail::FusedIsa::Avx2, detail::FusedIsa::Avx512),
                         isa_name);

// Column sums (read along rows) and per-network reductions (networks on threads) equal HostPrims's
// bit for bit: each sum adds the same terms in the same order.
TEST(BlasFusedSteps, ColumnSumsAndReductionsEqualThePlainLoopsBitForBit) {
  for (int threads : {1, 2, 3})
    for (const auto& shape : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 9, 5}, {1, 700, 67}, {4, 300, 71}}) {
      const int64_t batch = shape[0], rows = shape[1], cols = shape[2], stride_x = rows * cols + 5, stride_out = cols + 2;
      const auto x = test::random_vector<float>(size_t(batch * stride_x), 42 + rows);
      std::vector<float> out_plain(size_t(batch * stride_out), 3.0f), out_fused = out_plain;
      HostPrims().column_sums(batch, rows, cols, x.data(), stride_x, 0.25f, out_plain.data(), stride_out);
      BlasHostPrims(threads).column_sums(batch, rows, cols, x.data(), stride_x, 0.25f, out_fused.data(), stride_out);
      EXPECT_TRUE(same_bits(out_fused, out_plain)) << "column sums " << batch << "x" << rows << "x" << cols << " threads=" << threads;
      const int64_t n = rows * cols;
      for (bool accumulate : {false, true}) {
        std::vector<double> sum_plain(size_t(batch), 1.5), sum_fused = sum_plain;
        const kernels::SumOfSquares body{x.data(), stride_x};
        HostPrims().reduce(batch, n, body, sum_plain.data(), accumulate);
        BlasHostPrims(threads).reduce(batch, n, body, sum_fused.data(), accumulate);
        EXPECT_EQ(sum_fused, sum_plain) << "reduce " << batch << "x" << n << " threads=" << threads;
      }
    }
}

// BPTT's transposed weights (BlasHostPrims::transpose): tiles of 16 with remainders, one matrix
// or a batch of them spread over the threads; moved, not computed, so equal bit for bit.
TEST(BlasFusedSteps, TransposeMovesEveryElement) {
  for (int threads : {1, 3})
    for (const auto& shape : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {1, 64, 4}, {2, 17, 33}, {5, 160, 130}}) {
      const int64_t batch = shape[0], rows = shape[1], cols = shape[2], n = rows * cols;
      const auto src = test::random_vector<float>(size_t(batch * n), 7 + rows);
      std::vector<float> dst(size_t(batch * n), std::nanf(""));
      BlasHostPrims(threads).transpose(batch, rows, cols, src.data(), dst.data());
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c)
            ASSERT_EQ(std::memcmp(&dst[size_t(b * n + c * rows + r)], &src[size_t(b * n + r * cols + c)],
                                  sizeof(float)),
                      0)
                << batch << "x" << rows << "x" << cols << " threads=" << threads << " at " << b << ", " << r
                << ", " << c;
    }
}

// A problem where the backend cuts every pass: products of 2 B H^2 E = 7.5 MFLOP per step (over
// 2 MFLOP per thread) and per-step passes of E B H = 33600 elements (over 16K per thread); E = 3
// networks on 2 threads (each network's product in 2 blocks) and on 3.
BackendCase threaded_case() {
  BackendCase c;
  c.activation = Activation::ReLU, c.E = 3, c.H = 112, c.B = 100, c.T = 4, c.I = 5, c.O = 4;
  c.masks = c.biases = c.noise = true, c.seed = 300;
  return c;
}

TEST(BlasBackendThreads, MatchesTheReferenceBackend) {
  const BackendCase c = threaded_case();
  const test::Problem p = test::make_problem(c);
  for (int threads : {2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    detail::OrchestratedBackend<BlasHostPrims> blas(p.config, /*poison=*/true, threads);
    auto cpu = detail::make_cpu_backend<float>(p.config);
    test::compare_backends(blas, *cpu, c, p, kBlasTolerances, /*adam=*/false);
    NetworkParallelBackend by_network(p.config, /*poison=*/true, threads);
    test::compare_backends(by_network, *cpu, c, p, kBlasTolerances, /*adam=*/false);
  }
}

// BlasHostPrims with learn_tau's gradient from the pass over the traces after BPTT, as HostPrims
// and CudaPrims compute it (kernels/alpha_gradient.hpp), everything else as BlasHostPrims.
struct BlasPrimsWithAlphaPass : BlasHostPrims {
  using BlasHostPrims::BlasHostPrims;
  static constexpr bool kAlphaTermsInBackwardRows = false;
};

// learn_tau on the CPU backend: dL/dalpha's terms dv_t (v_t - v_{t-1}), added in the backward
// step's rows (for each (e, b) over t = T..1, then over b), equal the pass after BPTT (one column
// sum over (t, b)) up to the summation order, and are the same bits on 1 to 3 threads; every other
// gradient is the same bits as without the fold. Shapes: rows of 33K elements per step (cut into 2
// and 3 row ranges), odd H (loop remainders), E > 1, B = 1; noise, and tau per network and neuron
// (test::with_per_network_dynamics); with and without a direct dL/dr.
// Tolerance: both sum the same T B <= 36 float products, so each differs from the exact sum by at
// most (T B) 6e-8 = 2.2e-6 of the sum of the terms' magnitudes; those terms are of either sign,
// so that sum can exceed |dL/dalpha|: 1e-5 of the network's largest |dL/dalpha| (float32's
// relative tolerance) covers cancellation up to 4x (measured worst: see the recorded property). A
// missing step's term (T = 4 to 9 steps) or a term from the wrong network changes it by far more.
TEST(BlasBackendLearnTau, FoldedAlphaGradientEqualsThePassAfterBptt) {
  struct Shape {
    int64_t E, H, B, T;
    Activation activation;
  };
  double worst = 0;
  for (const Shape& s : {Shape{3, 157, 70, 4, Activation::Tanh}, Shape{2, 13, 5, 7, Activation::ReLU},
                         Shape{4, 37, 1, 9, Activation::Sigmoid}, Shape{2, 33, 4, 6, Activation::ReTanh}})
    for (bool with_gr : {true, false}) {
      BackendCase c;
      c.activation = s.activation, c.E = s.E, c.H = s.H, c.B = s.B, c.T = s.T;
      c.noise = c.biases = c.learn_tau = true, c.seed = 700 + uint64_t(s.H);
      const test::Problem p = test::with_per_network_dynamics(test::make_problem(c), c);
      SCOPED_TRACE(test::case_name(c) + (with_gr ? " with dL/dr" : " without dL/dr"));
      auto gradients = [&](detail::Backend<float>& b) {
        test::load_problem(b, p);
        b.forward(test::forward_args(c, p, 3, detail::InitialState::H0, false));
        b.backward(p.gy.data(), with_gr ? p.gr.data() : nullptr);
        Gradients<float> g;
        b.read_gradients(g);
        return g;
      };
      detail::OrchestratedBackend<BlasPrimsWithAlphaPass> pass_backend(p.config, /*poison=*/true, 1);
      const Gradients<float> pass = gradients(pass_backend);
      Gradients<float> one_thread;
      for (int threads : {1, 2, 3}) {
        detail::OrchestratedBackend<BlasHostPrims> folded_backend(p.config, /*poison=*/true, threads);
        const Gradients<float> folded = gradients(folded_backend);
        if (threads == 1) one_thread = folded;
        for (size_t k = 0; k < folded.arrays().size(); ++k) {
          EXPECT_TRUE(same_bits(*folded.arrays()[k], *one_thread.arrays()[k]))
              << kParamNames[k] << " on " << threads << " threads";
          if (k != kAlpha) EXPECT_TRUE(same_bits(*folded.arrays()[k], *pass.arrays()[k])) << kParamNames[k];
        }
      }
      for (int64_t e = 0; e < s.E; ++e) {
        double scale = 0, diff = 0;
        for (int64_t h = 0; h < s.H; ++h) {
          const size_t i = size_t(e * s.H + h);
          scale = std::max(scale, double(std::abs(pass.alpha[i])));
          diff = std::max(diff, std::abs(double(one_thread.alpha[i]) - double(pass.alpha[i])));
        }
        ASSERT_GT(scale, 0) << "network " << e << ": an all-zero dL/dalpha checks nothing";
        EXPECT_LE(diff, 1e-5 * scale) << "network " << e << ": dL/dalpha differs by " << diff / scale << " of its scale";
        worst = std::max(worst, diff / scale);
      }
    }
  RecordProperty("worst_relative_difference", std::to_string(worst));
  std::cout << "worst |folded - pass| / max |dL/dalpha|: " << worst << "\n";
}

// Training steps first..last as the trainer runs them: forward (noise), loss, BPTT, Adam with
// clipping, growth.
void train(detail::Backend<float>& b, const BackendCase& c, const test::Problem& p, int64_t first, int64_t last) {
  OptimizerConfig adam;
  adam.lr = 1e-2, adam.clip_grad_norm = 0.5;
  for (int64_t step = first; step <= last; ++step) {
    b.forward(test::forward_args(c, p, 10 + step, detail::InitialState::H0, false));
    b.loss(test::loss_args(c, p, p.target));
    b.backward_from_loss();
    b.optimizer_step(adam, step);
    b.grow_synapses(p.config.seed + 5, step);
  }
}

// A network whose loss or update is not finite is frozen; the others train on (the CPU backend).
TEST(BlasBackendState, DivergenceIsPerNetwork) {
  test::expect_divergence_is_per_network([](const Config& c) { return detail::make_host_backend(c); });
}

// Per-network optimizer values and lambdas: each network as in a run with its values for all.
TEST(BlasBackendPerNetwork, ValuesEqualUniformRuns) {
  test::expect_per_network_values_equal_uniform_runs([](const Config& c) { return detail::make_host_backend(c); });
}

// Network k of an ensemble equals a one-network run drawing as network k (first_network = k):
// the batched sequence over all E networks (OrchestratedBackend<BlasHostPrims> with E > 1, no
// longer make_host_backend's) bit for bit at one thread only (it cuts its products by the
// ensemble size); the network-parallel backend below at any thread count.
TEST(BlasBackendNetworkAlone, EqualsItsNetworkInTheEnsemble) {
  test::expect_network_k_equals_its_one_network_run(
      [](const Config& c) { return std::make_unique<detail::OrchestratedBackend<BlasHostPrims>>(c, true, 1); });
}

// make_host_backend runs an ensemble network by network, one network as the orchestrated
// sequence; the tests that build their backend with it (divergence and per-network values above,
// test_learn_tau, every Network test of an ensemble) run the former.
TEST(BlasBackendNetworkParallel, MakeHostBackendRunsEnsemblesNetworkByNetwork) {
  Config c;
  c.dims = {2, 8, 2};
  EXPECT_NE(dynamic_cast<detail::OrchestratedBackend<BlasHostPrims>*>(detail::make_host_backend(c).get()), nullptr);
  c.ensemble_size = 3;
  EXPECT_NE(dynamic_cast<NetworkParallelBackend*>(detail::make_host_backend(c).get()), nullptr);
}

// Network k of an ensemble run network by network equals its one-network run (first_network = k)
// bit for bit on 1, 2 and 3 threads, the one-network run on another thread count (3, 2, 1): noise,
// per-network sigmas, tau, lr, weight decay, clipping and lambdas (lambda_fr among them), Dale's
// law, sparsity and plasticity masks, growth, learned tau (the helper's cases).
TEST(BlasBackendNetworkParallel, EachNetworkEqualsItsOneNetworkRunOnAnyThreadCount) {
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    test::expect_network_k_equals_its_one_network_run([threads](const Config& c) -> std::unique_ptr<detail::Backend<float>> {
      if (c.ensemble_size > 1) return std::make_unique<NetworkParallelBackend>(c, /*poison=*/true, threads);
      return std::make_unique<detail::OrchestratedBackend<BlasHostPrims>>(c, /*poison=*/true, 4 - threads);
    });
  }
}

// Network k's slice of an (E, ...) array.
template <class V>
V network_slice(const V& x, int64_t k, int64_t E) {
  const size_t n = x.size() / size_t(E);
  return V(x.begin() + k * n, x.begin() + (k + 1) * n);
}

// What the training steps above do not read: the outputs and rates (read_forward), the kept
// state carried from one forward to the next, backward from given dL/dy and dL/dr and its input
// gradient dL/du. Network k of the ensemble equals its one-network run bit for bit in each; for
// a shared u, dL/du is the networks' own summed in network order, for a per-network u each
// network's own. Outputs poisoned (NaN) first; 1 to 3 threads.
TEST(BlasBackendNetworkParallel, ReadsKeptStateAndInputGradientEqualOneNetworkRuns) {
  for (bool u_per_network : {false, true})
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(std::string(u_per_network ? "u per network" : "shared u") + ", threads " + std::to_string(threads));
      BackendCase c;
      c.E = 3, c.T = 5, c.B = 4, c.noise = c.masks = c.biases = true, c.u_per_network = u_per_network, c.seed = 310;
      test::Problem p = test::make_problem(c);
      p.config.preact_noise = PerNetwork::each({0.3, 0, 0.1});
      p.config.postact_noise = PerNetwork::each({0.05, 0.02, 0});
      const int64_t E = c.E, T = c.T, B = c.B, H = c.H, O = c.O;
      struct Outputs {
        std::vector<float> y, r, kept, du;
        Gradients<float> g;
      };
      // forward from h0 keeping v_T, forward from the kept state, then BPTT from gy and gr with dL/du
      auto run = [&](detail::Backend<float>& b, const BackendCase& bc, const test::Problem& q, int64_t networks) {
        test::load_problem(b, q);
        b.forward(test::forward_args(bc, q, 3, detail::InitialState::H0, true));
        b.forward(test::forward_args(bc, q, 4, detail::InitialState::Kept, true));
        Outputs o{test::poisoned(networks * T * B * O), test::poisoned(networks * T * B * H), {},
                  test::poisoned(int64_t(q.u.size())), {}};
        b.read_forward(o.y.data(), o.r.data());
        b.get_kept_state(o.kept);
        b.backward(q.gy.data(), q.gr.data(), o.du.data());
        b.read_gradients(o.g);
        return o;
      };
      NetworkParallelBackend ensemble(p.config, /*poison=*/true, threads);
      const Outputs all = run(ensemble, c, p, E);
      std::vector<float> du_sum;  // the one-network runs' dL/du of the shared u, summed in order
      for (int64_t k = 0; k < E; ++k) {
        SCOPED_TRACE("network " + std::to_string(k));
        BackendCase one = c;
        one.E = 1, one.u_per_network = false;
        test::Problem q = p;
        q.config.ensemble_size = 1, q.config.first_network = k;
        q.config.preact_noise = p.config.preact_noise[k], q.config.postact_noise = p.config.postact_noise[k];
        for (int l = 0; l < 3; ++l) {
          LayerConstraints<float>& lc = q.constraints[size_t(l)];
          lc.E = 1;
          for (std::vector<float>* m : {&lc.sparsity, &lc.ei, &lc.plasticity, &lc.growth})
            if (!m->empty()) *m = network_slice(*m, k, E);
        }
        const auto from = p.params.arrays();
        const auto to = q.params.arrays();
        q.params.E = 1;
        for (int a = 0; a < kNumParamArrays; ++a) *to[a] = network_slice(*from[a], k, E);
        if (u_per_network) q.u = network_slice(p.u, k, E);
        q.gy = network_slice(p.gy, k, E), q.gr = network_slice(p.gr, k, E);
        detail::OrchestratedBackend<BlasHostPrims> alone(q.config, /*poison=*/true, 1);
        const Outputs mine = run(alone, one, q, 1);
        EXPECT_TRUE(same_bits(network_slice(all.y, k, E), mine.y)) << "y";
        EXPECT_TRUE(same_bits(network_slice(all.r, k, E), mine.r)) << "r";
        EXPECT_TRUE(same_bits(network_slice(all.kept, k, E), mine.kept)) << "kept state";
        const auto ga = all.g.arrays(), gm = mine.g.arrays();
        for (int a = 0; a < kNumParamArrays; ++a)
          EXPECT_TRUE(same_bits(network_slice(*ga[a], k, E), *gm[a])) << "gradient of " << kParamNames[a];
        if (u_per_network) {
          EXPECT_TRUE(same_bits(network_slice(all.du, k, E), mine.du)) << "du";
        } else if (k == 0) {
          du_sum = mine.du;
        } else {
          for (size_t i = 0; i < du_sum.size(); ++i) du_sum[i] += mine.du[i];
        }
        for (int a = 0; a < kNumParamArrays; ++a) {  // read_gradient: one array into its place
          std::vector<float> one_array = test::poisoned(int64_t(ga[a]->size()));
          ensemble.read_gradient(a, one_array.data());
          EXPECT_TRUE(same_bits(one_array, *ga[a])) << "read_gradient " << kParamNames[a];
        }
      }
      if (!u_per_network) EXPECT_TRUE(same_bits(all.du, du_sum)) << "du of the shared u";
      // A kept state of the wrong size and a dynamics without E sigmas are refused, changing nothing.
      EXPECT_THROW(ensemble.set_kept_state(std::vector<float>(size_t(B * H)), B), InvalidArgument);
      auto bad = test::forward_args(c, p, 5, detail::InitialState::Kept, false);
      bad.dynamics.preact_noise.pop_back();
      EXPECT_THROW(ensemble.forward(bad), InvalidArgument);
      std::vector<float> kept_after;
      ensemble.get_kept_state(kept_after);
      EXPECT_TRUE(same_bits(kept_after, all.kept)) << "kept state after refused calls";
    }
}

// At a fixed thread count the threaded backend gives the same bits on every run (static
// partitions, each output from one thread in a fixed order): two steps, a "checkpoint" (the
// parameters, optimizer state and grown sparsity), two more steps in a fresh backend equal four
// uninterrupted steps bit for bit.
TEST(BlasBackendThreads, ResumesBitForBitAtAFixedThreadCount) {
  const BackendCase c = threaded_case();
  const test::Problem p = test::make_problem(c);
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    using Blas = detail::OrchestratedBackend<BlasHostPrims>;
    Blas whole(p.config, false, threads), first(p.config, false, threads), resumed(p.config, false, threads);
    for (Blas* b : {&whole, &first}) {
      test::load_problem(*b, p);
    }
    train(whole, c, p, 1, 4);
    train(first, c, p, 1, 2);
    Params<float> params;
    OptimizerState<float> opt;
    std::array<std::vector<float>, 3> grown;
    first.get_params(params);
    first.get_optimizer_state(opt);
    first.get_sparsity(grown);
    auto constraints = p.constraints;
    for (int l = 0; l < 3; ++l) constraints[l].sparsity = grown[l];
    resumed.set_constraints(constraints);
    resumed.set_params(params);
    resumed.set_optimizer_state(opt);
    train(resumed, c, p, 3, 4);

    Params<float> p_whole, p_resumed;
    whole.get_params(p_whole);
    resumed.get_params(p_resumed);
    for (size_t k = 0; k < p_whole.arrays().size(); ++k)
      EXPECT_TRUE(same_bits(*p_resumed.arrays()[k], *p_whole.arrays()[k])) << kParamNames[k];
    OptimizerState<float> o_whole, o_resumed;
    whole.get_optimizer_state(o_whole);
    resumed.get_optimizer_state(o_resumed);
    for (size_t k = 0; k < o_whole.m.arrays().size(); ++k) {
      EXPECT_TRUE(same_bits(*o_resumed.m.arrays()[k], *o_whole.m.arrays()[k])) << "m " << kParamNames[k];
      EXPECT_TRUE(same_bits(*o_resumed.v.arrays()[k], *o_whole.v.arrays()[k])) << "v " << kParamNames[k];
    }
  }
}

// Four training steps give the same bits on 1, 2, 3 and 4 threads: the products and passes are
// cut by the problem's shape, and the threads only choose who computes which piece. Cases: the
// threaded case (E = 3: networks and blocks of each product on the threads), one network with a
// weight-gradient product over K = T B = 600 rows (its blocks of rows or columns spread over the
// threads), a small one (every piece on the calling thread), and a pair run network by network.
TEST(BlasBackendThreads, TheThreadCountDoesNotChangeOneBit) {
  BackendCase one = threaded_case();
  one.E = 1, one.H = 160, one.B = 150, one.T = 4, one.seed = 301;
  BackendCase small;
  small.masks = small.biases = small.noise = true, small.seed = 302;
  // Network by network (make_host_backend's ensembles): E = 2 networks whose per-step product the
  // one-network backend cuts ((B, H) = (64, 256): 8.4 MFLOP, 2 blocks of columns), in parallel on
  // 1 and 2 threads, one after another on all 3 or 4.
  BackendCase pair = one;
  pair.E = 2, pair.H = 256, pair.B = 64, pair.T = 3, pair.seed = 303;
  for (const BackendCase& c : {threaded_case(), one, small, pair}) {
    SCOPED_TRACE(test::case_name(c));
    const test::Problem p = test::make_problem(c);
    using Blas = detail::OrchestratedBackend<BlasHostPrims>;
    Params<float> first_params;
    OptimizerState<float> first_opt;
    for (int threads : {1, 2, 3, 4}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      std::unique_ptr<detail::Backend<float>> made;
      if (c.seed == pair.seed) made = std::make_unique<NetworkParallelBackend>(p.config, false, threads);
      else made = std::make_unique<Blas>(p.config, false, threads);
      detail::Backend<float>& b = *made;
      test::load_problem(b, p);
      train(b, c, p, 1, 4);
      Params<float> params;
      OptimizerState<float> opt;
      b.get_params(params);
      b.get_optimizer_state(opt);
      if (threads == 1) {
        first_params = params, first_opt = opt;
        continue;
      }
      for (size_t k = 0; k < params.arrays().size(); ++k) {
        EXPECT_TRUE(same_bits(*params.arrays()[k], *first_params.arrays()[k])) << kParamNames[k];
        EXPECT_TRUE(same_bits(*opt.m.arrays()[k], *first_opt.m.arrays()[k])) << "m " << kParamNames[k];
        EXPECT_TRUE(same_bits(*opt.v.arrays()[k], *first_opt.v.arrays()[k])) << "v " << kParamNames[k];
      }
    }
  }
}

}  // namespace
}  // namespace ctrnn
