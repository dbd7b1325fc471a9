// GPU launches of the leaky time step (leaky_step.hpp), forward and backward side by side: the
// initial state, the fused forward step (leak, biases, pre-activation noise, activation,
// post-activation noise; writes v_t and r_t) and the fused backward step (activation
// derivative, leak carry; writes dv_t). The GEMMs between them are cuBLAS calls made by the
// orchestration (host/orchestrated/orchestrated_backend.hpp). With learned time constants, the
// alpha gradient's passes after BPTT (alpha_gradient.hpp).
#include "cuda/launch.cuh"
#include "kernels/alpha_gradient.hpp"
#include "kernels/leaky_step.hpp"

CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::InitialStateBody)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::LeakyStepForward)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::LeakyStepBackward)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::NoiseBody)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::AlphaGradientTerms)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::DivideByAlpha)
