#pragma once
// The CPU backend of float networks when the build has BLAS (CTRNN_WITH_BLAS; an ensemble runs as one
// such backend per network, network_parallel_backend.hpp): the orchestration
// of the CUDA backend (one GEMM for the input drive and the readout over all T, one per step for
// the recurrence, fused per-element bodies) over these primitives, at the machine's speed:
//   - GEMMs by OpenBLAS's single-threaded cblas_sgemm (the small ones it was measured to lose at,
//     the per-step products among them, by small_gemm.hpp's kernel), the batch items (the E networks) and row or
//     column blocks of each product (a cut by the product's shape, blas_gemm.cpp) spread over the
//     backend's threads; a product too small to be worth splitting runs on the calling thread;
//   - the per-step bodies (initial state, leaky step forward and backward, the readout bias) as
//     contiguous vectorized loops over rows (host_fused_steps.hpp), other bodies in index ranges,
//     reductions by network and column sums by rows, all spread over the same threads.
// Threads: `threads` given to the constructor, else OpenBLAS's thread count (all cores, or
// OPENBLAS_NUM_THREADS), read at every call. OpenBLAS's own threads are not used: each product
// runs with OpenBLAS set to one thread (restored afterwards), so the two never oversubscribe the
// cores and OpenBLAS's idle threads never spin between the per-step products. Every output is
// computed whole by one piece, in an order fixed by the problem's shape: products are cut by their
// shape (never by the thread count, as OpenBLAS's sums depend on the M and N of a call), sums by
// network or column: the results are the same bits on every run and on any thread count.
// The plain reference stays the oracle; HostPrims's plain loops are what the tests compare with.
#include <cstdint>
#include <memory>
#include <string>

#include "backend.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/leaky_step.hpp"
#include "orchestrated/host_fused_steps.hpp"
#include "orchestrated/host_parallel.hpp"
#include "orchestrated/host_primitives.hpp"

namespace ctrnn::detail {

// The row-major strided-batched GEMM of primitives.hpp on `threads` threads (see above).
void blas_sgemm_batched(int threads, Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                        int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                        float* C, int64_t ldc, int64_t stride_c, int64_t batch);
// How blas_sgemm_batched cuts each item of a product of this shape (blas_gemm.cpp explains why and
// at what cost): into `pieces` blocks of C's rows or columns, or of the sum over K.
struct GemmCut {
  enum Along { Rows, Columns, Depth } along = Rows;
  int64_t pieces = 1;
};
GemmCut blas_gemm_cut(int64_t M, int64_t N, int64_t K, int64_t batch);
// dst (cols x rows) = src (rows x cols)^T, both dense.
void transpose_matrix(int64_t rows, int64_t cols, const float* src, float* dst);
int blas_thread_count();                    // openblas_get_num_threads() as the user set it
void set_blas_thread_count(int threads);    // openblas_set_num_threads(), process-wide
std::string blas_description(int threads);  // "cpu (OpenBLAS 0.3.21, SkylakeX kernels, 2 threads)"

struct BlasHostPrims : HostPrims {
  // Per-element work below this many elements per thread runs on fewer threads (on one when
  // small): handing a piece to another thread costs a few microseconds, as much as a fused step
  // over ~16K elements. (Products: kMinFlopsPerThread in blas_gemm.cpp.)
  static constexpr int64_t kMinElementsPerThread = int64_t(1) << 14;

  explicit BlasHostPrims(int threads = 0) : threads_(threads) {}

  int threads() const { return threads_ > 0 ? threads_ : blas_thread_count(); }
  void set_threads(int threads) { threads_ = threads; }  // 0: OpenBLAS's count
  std::string description() const { return blas_description(threads()); }

  void gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
            int64_t stride_c, int64_t batch) {
    blas_sgemm_batched(threads(), ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c,
                       batch);
  }

  // BPTT multiplies by transposed copies of W_out and W_hid (primitives.hpp): OpenBLAS's
  // small-matrix kernels take NN products but not NT ones, and the NT product of a (B, H) =
  // (32, 64) step took twice as long as the NN one (bench/RESULTS.md, issue 19).
  static constexpr bool kTransposeForNn = true;
  void transpose(int64_t batch, int64_t rows, int64_t cols, const float* src, float* dst) {
    const int64_t n = rows * cols;
    parallel_ranges(parts_for(batch * n, batch), batch, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) transpose_matrix(rows, cols, src + b * n, dst + b * n);
    });
  }

  // Any body: index ranges on the threads.
  template <class F>
  void apply(int64_t n, const F& body) {
    parallel_ranges(parts_for(n, n), n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) body(i);
    });
  }
  // The per-step bodies: rows of (E, B) or (E, rows), each a contiguous loop.
  void apply(int64_t n, const kernels::InitialStateBody& s) {
    by_rows(n, n / s.H, [&](int64_t b, int64_t e) { initial_state_rows(s, b, e); });
  }
  void apply(int64_t n, const kernels::LeakyStepForward& s) {
    by_rows(n, n / s.H, [&](int64_t b, int64_t e) { leaky_step_forward_rows(s, b, e); });
  }
  void apply(int64_t n, const kernels::LeakyStepBackward& s) { apply(n, s, nullptr); }
  // learn_tau: alpha's gradient terms added in the backward step's rows, while dv_t and v_t are in
  // cache (primitives.hpp; the separate pass after BPTT read both traces again from memory:
  // 1.4-2.1x the step at E = 64, bench/RESULTS.md, issue 20). Each row of alpha_terms is written
  // by the piece that runs its row of the step, the steps in order: the same bits on any thread count.
  static constexpr bool kAlphaTermsInBackwardRows = true;
  void apply(int64_t n, const kernels::LeakyStepBackward& s, float* alpha_terms) {
    by_rows(n, n / s.H, [&](int64_t b, int64_t e) { leaky_step_backward_rows(s, alpha_terms, b, e); });
  }
  void apply(int64_t n, const kernels::BroadcastRows& s) {
    by_rows(n, n / s.cols, [&](int64_t b, int64_t e) { bias_broadcast_rows(s, b, e); });
  }
  void apply(int64_t n, const kernels::FiringRateGrad& s) {
    by_rows(n, n / s.H, [&](int64_t b, int64_t e) { firing_rate_grad_rows(s, b, e); });
  }

  // The loss's and optimizer's passes: networks on the threads, each a contiguous loop.
  void apply(int64_t n, const kernels::MseGrad& s) {
    by_rows(n, s.n ? n / s.n : 0, [&](int64_t b, int64_t e) { mse_grad_networks(s, b, e); });
  }
  void apply(int64_t n, const kernels::OptimizerUpdate& s) {
    by_rows(n, s.n ? n / s.n : 0, [&](int64_t b, int64_t e) { optimizer_update_networks(s, b, e); });
  }
  void reduce(int64_t E, int64_t n, const kernels::UpdateNonFinite& s, double* out, bool accumulate) {
    parallel_ranges(parts_for(E * n, E), E, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) {
        const double count = update_nonfinite_count(s, e);
        out[e] = accumulate ? out[e] + count : count;
      }
    });
  }

  // Networks on the threads; each network's sum in HostPrims's order.
  template <class F>
  void reduce(int64_t E, int64_t n, const F& body, double* out, bool accumulate) {
    parallel_ranges(parts_for(E * n, E), E, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += body(e, i);
        out[e] = accumulate ? out[e] + s : s;
      }
    });
  }

  // Rows added in order into a row of column sums (the same sums as HostPrims's, read along the
  // rows); the threads take networks, or column blocks of one network.
  void column_sums(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                   float* out, int64_t stride_out) {
    const int parts = parts_for(batch * rows * cols, batch * cols);
    const int64_t blocks = pieces_per_item(batch, parts);
    parallel_ranges(parts, batch * blocks, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t b = p / blocks, c0 = cols * (p % blocks) / blocks, c1 = cols * (p % blocks + 1) / blocks;
        float* __restrict sum = out + b * stride_out;
        for (int64_t c = c0; c < c1; ++c) sum[c] = 0.0f;
        for (int64_t r = 0; r < rows; ++r) {
          const float* __restrict row = x + b * stride_x + r * cols;
          for (int64_t c = c0; c < c1; ++c) sum[c] += row[c];
        }
        for (int64_t c = c0; c < c1; ++c) sum[c] *= scale;
      }
    });
  }

 private:
  // How many of the threads a pass over `elements` elements cut into `pieces` pieces uses.
  int parts_for(int64_t elements, int64_t pieces) const {
    const int64_t by_work = elements / kMinElementsPerThread;
    int64_t parts = threads();
    if (parts > by_work) parts = by_work;
    if (parts > pieces) parts = pieces;
    return parts < 1 ? 1 : int(parts);
  }
  template <class F>
  void by_rows(int64_t n, int64_t rows, const F& rows_fn) {
    parallel_ranges(parts_for(n, rows), rows, rows_fn);
  }

  int threads_;  // 0: OpenBLAS's count
};

}  // namespace ctrnn::detail
