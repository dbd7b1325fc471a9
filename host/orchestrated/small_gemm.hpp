#pragma once
// Row-major products small enough that OpenBLAS's per-call work (its interface, its small-matrix
// kernel's set-up, or for the T N form its packing) costs more than the arithmetic: the CPU
// backend's per-step recurrent products (B x H x H at H <= 128), its weight gradients with a
// narrow right operand and its readout (a few outputs). A register-blocked kernel (rows of C in
// vector accumulators, the right operand's panel read from L1) in AVX-512 or AVX2 with FMA, chosen
// at run time by the CPU (the build stays portable: no -march), and for A B with N <= 4 one whose
// lanes run down C's columns (A transposed in registers). bench/RESULTS.md (issue 19) has the
// measurements that chose the shapes it takes (small_sgemm_takes) over OpenBLAS.
//
// Each element of C is sum_k op(A)[i][k] B[k][j] accumulated in k order in one float lane, then
// alpha times that plus beta C: the same bits for an element whatever the product's M and N, the
// row block or panel it falls in, and the instruction set (AVX2 and AVX-512 run the same FMAs in
// the same order), so results stay independent of how a product is cut and of the thread count.
#include <cstdint>

namespace ctrnn::detail {

enum class GemmIsa { None, Avx2, Avx512, Best };

// True when this CPU (and this build: x86-64 GCC) can run `isa`; None is always available and
// means "no kernel here" (small_sgemm_takes is then false).
bool small_gemm_isa_available(GemmIsa isa);

// Whether small_sgemm computes C (M x N) = alpha op(A) B + beta C faster than OpenBLAS on this
// CPU: op(B) = B (not transposed) and a shape it was measured to win at.
bool small_sgemm_takes(bool transpose_a, int64_t M, int64_t N, int64_t K, GemmIsa isa = GemmIsa::Best);

// C (M x N) = alpha op(A) B + beta C, row-major, op(A) = A (M x K, row stride lda) or, with
// transpose_a, A^T for A stored K x M. beta == 0: C is not read. Any shape (M, N, K >= 0); isa
// must be available and not None.
void small_sgemm(bool transpose_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc, GemmIsa isa = GemmIsa::Best);

}  // namespace ctrnn::detail
