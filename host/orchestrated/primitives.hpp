#pragma once
// The few primitives the CUDA backend's forward, BPTT, loss and update sequences are written
// against (orchestrated_backend.hpp). Two implementations: CudaPrims (cuda_primitives.hpp:
// cuBLAS, grid-stride kernels) and HostPrims (host_primitives.hpp: plain loops), so the whole
// sequence runs in CI on the host and is compared with the CPU reference; only CudaPrims is
// GPU-only. A primitives type P provides:
//
//   template <class T> using Buffer;      movable storage: resize(n) (contents undefined after a
//                                         resize), data(), size()
//   void gemm(Op ta, Op tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc,
//             stride_c, batch);
//       For each i < batch, row-major: C_i (M x N) = alpha op(A_i) op(B_i) + beta C_i, with
//       X_i = X + i * stride_x; op(A) is M x K (A stored M x K, or K x M when ta == T), op(B)
//       is K x N; ld* are row strides of the stored matrices. beta == 0: C is not read. A stride
//       of 0 for A or B broadcasts one matrix over the batch.
//   template <class F> void apply(n, const F& body);            body(i) for every i in [0, n)
//   template <class F> void reduce(E, n, const F& body, double* out, bool accumulate);
//       out[e] (+)= sum_{i < n} body(e, i) for every e < E, summed in double
//   void column_sums(batch, rows, cols, x, stride_x, scale, out, stride_out);
//       out[b][c] = scale * sum_r x[b * stride_x + r * cols + c]
//   template <class T> void upload(T* dst, const T* host_src, n);     host_src reusable on return
//   template <class T> void download(T* host_dst, const T* src, n);   complete on return
//   void copy(float* dst, const float* src, n);
//   Device device() const; std::string description() const;
//
// Every pointer handed to these is a P buffer's (device memory for CudaPrims) unless named host.
// Buffers also have capacity() (resize reallocates only beyond it).
//
// Three optional primitives are free functions found by argument-dependent lookup, with the
// defaults below; CudaPrims overloads them (cuda_primitives.hpp):
//   run_graph(p, key, sequence)   runs sequence(), which allocates, transfers and synchronizes
//                                 nothing; CudaPrims runs it launch by launch at a key's first
//                                 call, captures it as a CUDA graph at the second and replays that
//                                 while the key holds (the key names everything the sequence's
//                                 launches depend on: shapes, modes, buffer addresses)
//   reserve_reductions(p, E)      room for reduce() over E networks, made before a capture
//   memory_available(p)           bytes new buffers may still take (host RAM; free device memory)
//   location_of(p)                where p's buffers are (Backend::location())
//   wait_for_stream(p, s)         p's next work after the work queued on the caller's stream s
//                                 (Backend::order_after)
//   signal_stream(p, s)           s's later work after p's work so far (Backend::order_before)
//                                 (both no-ops on the host, where every call completes before it
//                                 returns)
// copy() also takes pointers into caller memory at location_of(p) (views on the device).
//
// One optional member, found by kTransposesForNnProducts<P>:
//   static constexpr bool kTransposeForNn = true;  and
//   void transpose(batch, rows, cols, src, dst)   dst_i (cols x rows) = src_i (rows x cols)^T,
//                                                 each matrix dense, batch of them back to back
//       a P whose NN products are faster than its NT ones: BPTT then multiplies by transposed
//       copies of W_out and W_hid made once, instead of by W^T in NT products at every step.
// Another optional member, found by kFoldsAlphaGradient<P>:
//   static constexpr bool kAlphaTermsInBackwardRows = true;  and
//   void apply(n, const kernels::LeakyStepBackward& s, float* alpha_terms)
//       s's step, and at a step t >= 1 (s.replace) alpha_terms (E, B, H) += dv_t (v_t - v_{t-1})
//       element by element: a P that runs the step over rows adds learn_tau's gradient terms there,
//       while dv_t and v_t are in cache; BPTT then sums alpha_terms over b, instead of the pass of
//       kernels/alpha_gradient.hpp over the whole traces after the loop (which the other Ps keep:
//       the same sum in another order, so not the same bits).
#include <cstdint>
#include <string>
#include <type_traits>

#include "ctrnn/view.hpp"
#include "memory_budget.hpp"

namespace ctrnn::detail {

enum class Op { N, T };  // op(X) = X or X^T

template <class P, class = void>
inline constexpr bool kTransposesForNnProducts = false;
template <class P>
inline constexpr bool kTransposesForNnProducts<P, std::void_t<decltype(P::kTransposeForNn)>> = P::kTransposeForNn;

template <class P, class = void>
inline constexpr bool kFoldsAlphaGradient = false;
template <class P>
inline constexpr bool kFoldsAlphaGradient<P, std::void_t<decltype(P::kAlphaTermsInBackwardRows)>> =
    P::kAlphaTermsInBackwardRows;

template <class P, class F>
void run_graph(P&, const std::string&, F&& sequence) {
  sequence();
}
template <class P>
void reserve_reductions(P&, int64_t) {}
template <class P>
int64_t memory_available(const P&) {
  return host_memory_available();
}
template <class P>
Location location_of(const P&) {
  return Location::host();
}
template <class P>
void wait_for_stream(P&, Stream) {}
template <class P>
void signal_stream(P&, Stream) {}

}  // namespace ctrnn::detail
