// The fused row loops (host_fused_steps.hpp): host_fused_steps_rows.inc compiled for the portable
// instruction set, for AVX2 + FMA and for AVX-512, the widest the CPU has chosen once at run time
// (as small_gemm.cpp and normal_fill.cpp choose theirs). Each operation is rounded as written in
// every set (-ffp-contract=off for this file, cmake/CtrnnHostCpu.cmake; tanh and the logistic
// function are straight-line float code, kernels/float_math.hpp), so all three give the kernel
// bodies' bits, which tests/test_blas_backend.cpp checks for each set the CPU has. The vector
// sets pay where the loops compute: tanh and sigmoid networks, whose f and f' are tens of
// operations per neuron (bench/RESULTS.md).
#include "orchestrated/host_fused_steps.hpp"

#include <atomic>
#include <cmath>
#include <vector>

#include "cpu_features.hpp"
#include "kernels/activation.hpp"
#include "normal_fill.hpp"

namespace ctrnn::detail {
namespace {

namespace portable {
#include "host_fused_steps_rows.inc"
}  // namespace portable

#ifdef CTRNN_CPU_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "host_fused_steps_rows.inc"
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")
namespace avx512 {
#include "host_fused_steps_rows.inc"
}  // namespace avx512
#pragma GCC pop_options
#endif

FusedIsa widest_supported() {
  if (fused_isa_supported(FusedIsa::Avx512)) return FusedIsa::Avx512;
  if (fused_isa_supported(FusedIsa::Avx2)) return FusedIsa::Avx2;
  return FusedIsa::Portable;
}

std::atomic<FusedIsa>& running_isa() {
  static std::atomic<FusedIsa> isa{widest_supported()};
  return isa;
}

}  // namespace

bool fused_isa_supported(FusedIsa isa) {
  if (isa == FusedIsa::Avx2) return cpu_has_avx2_fma();
  if (isa == FusedIsa::Avx512) return cpu_has_avx512_fdqvlbw();
  return isa == FusedIsa::Portable;
}

FusedIsa fused_isa() { return running_isa().load(std::memory_order_relaxed); }

const char* fused_isa_name(FusedIsa isa) {
  switch (isa) {
    case FusedIsa::Avx2: return "avx2";
    case FusedIsa::Avx512: return "avx512";
    case FusedIsa::Portable: break;
  }
  return "portable";
}

void set_fused_isa(FusedIsa isa) {
  if (!fused_isa_supported(isa)) return;
  running_isa().store(isa, std::memory_order_relaxed);
}

// Calls the running set's `call`, e.g. initial_state_rows(s, row_begin, row_end).
#ifdef CTRNN_CPU_DISPATCH
#define CTRNN_FUSED_DISPATCH(call)                      \
  switch (fused_isa()) {                                \
    case FusedIsa::Avx512: return avx512::call;         \
    case FusedIsa::Avx2: return avx2::call;             \
    case FusedIsa::Portable: break;                     \
  }                                                     \
  return portable::call
#else
#define CTRNN_FUSED_DISPATCH(call) return portable::call
#endif

void initial_state_rows(const kernels::InitialStateBody& s, int64_t row_begin, int64_t row_end) {
  CTRNN_FUSED_DISPATCH(initial_state_rows(s, row_begin, row_end));
}

void leaky_step_forward_rows(const kernels::LeakyStepForward& s, int64_t row_begin, int64_t row_end) {
  CTRNN_FUSED_DISPATCH(leaky_step_forward_rows(s, row_begin, row_end));
}

void leaky_step_backward_rows(const kernels::LeakyStepBackward& s, float* alpha_terms, int64_t row_begin,
                              int64_t row_end) {
  CTRNN_FUSED_DISPATCH(leaky_step_backward_rows(s, alpha_terms, row_begin, row_end));
}

void bias_broadcast_rows(const kernels::BroadcastRows& s, int64_t row_begin, int64_t row_end) {
  CTRNN_FUSED_DISPATCH(bias_broadcast_rows(s, row_begin, row_end));
}

void firing_rate_grad_rows(const kernels::FiringRateGrad& s, int64_t row_begin, int64_t row_end) {
  CTRNN_FUSED_DISPATCH(firing_rate_grad_rows(s, row_begin, row_end));
}

void mse_grad_networks(const kernels::MseGrad& s, int64_t e_begin, int64_t e_end) {
  CTRNN_FUSED_DISPATCH(mse_grad_networks(s, e_begin, e_end));
}

void optimizer_update_networks(const kernels::OptimizerUpdate& s, int64_t e_begin, int64_t e_end) {
  CTRNN_FUSED_DISPATCH(optimizer_update_networks(s, e_begin, e_end));
}

double update_nonfinite_count(const kernels::UpdateNonFinite& s, int64_t e) {
  CTRNN_FUSED_DISPATCH(update_nonfinite_count(s, e));
}

#undef CTRNN_FUSED_DISPATCH

}  // namespace ctrnn::detail
