#pragma once
// Host-only row forms of the per-element bodies the CPU backend runs every time step (and once
// per call), for BlasHostPrims::apply: the same arithmetic, in the same order, as the bodies'
// operator() (kernels/leaky_step.hpp, kernels/elementwise.hpp), so the results are the same bits,
// but laid out as the data is: for each row (network e, batch row b) a contiguous loop over the H
// neurons with the activation fixed at compile time, no index division per element, so the
// compiler vectorizes it (its report: CTRNN_VECTORIZE_REPORT, cmake/CtrnnHostCpu.cmake). Each
// function runs the rows [row_begin, row_end) of the body's (E, rows) and writes only those rows'
// outputs, so ranges of rows can run on different threads.
#include <cstdint>

#include "kernels/elementwise.hpp"
#include "kernels/leaky_step.hpp"
#include "kernels/loss.hpp"
#include "kernels/update.hpp"

namespace ctrnn::detail {

// Rows of (E, B), n = E B H elements.
void initial_state_rows(const kernels::InitialStateBody& s, int64_t row_begin, int64_t row_end);
void leaky_step_forward_rows(const kernels::LeakyStepForward& s, int64_t row_begin, int64_t row_end);
// alpha_terms (E, B, H), or null: at a step t >= 1 (s.replace) each row (e, b) also adds its
// elements' dv_t (v_t - v_{t-1}) into row (e, b) of alpha_terms (learn_tau; primitives.hpp's
// kFoldsAlphaGradient): summed over t in the order BPTT runs the steps, T down to 1.
void leaky_step_backward_rows(const kernels::LeakyStepBackward& s, float* alpha_terms, int64_t row_begin,
                              int64_t row_end);
// Rows of (E, rows), n = E rows cols elements.
void bias_broadcast_rows(const kernels::BroadcastRows& s, int64_t row_begin, int64_t row_end);
// Rows of (E, T B), n = E T B H elements: each element's increment is computed once per network
// and neuron, not once per element (the body's index divisions and branches kept it scalar).
void firing_rate_grad_rows(const kernels::FiringRateGrad& s, int64_t row_begin, int64_t row_end);

// The loss's and the optimizer's per-element passes by network (each network's constants read
// once, not once per element, and its elements in one contiguous loop per array):
// networks [e_begin, e_end) of MseGrad's (E, n) and of one OptimizerUpdate's (E, n) (those its
// gate lets through), and UpdateNonFinite's sum for network e (a count: exact in any order).
void mse_grad_networks(const kernels::MseGrad& s, int64_t e_begin, int64_t e_end);
void optimizer_update_networks(const kernels::OptimizerUpdate& s, int64_t e_begin, int64_t e_end);
double update_nonfinite_count(const kernels::UpdateNonFinite& s, int64_t e);

// The instruction sets the row loops above are compiled for (host_fused_steps.cpp): the widest
// the CPU has runs, chosen once; every set gives the same bits. set_fused_isa (for tests) makes a
// supported set the running one, process-wide; an unsupported one changes nothing.
enum class FusedIsa { Portable, Avx2, Avx512 };
bool fused_isa_supported(FusedIsa isa);
FusedIsa fused_isa();
void set_fused_isa(FusedIsa isa);
// "portable", "avx2", "avx512": the set's name in tests' and benchmarks' names.
const char* fused_isa_name(FusedIsa isa);

}  // namespace ctrnn::detail
