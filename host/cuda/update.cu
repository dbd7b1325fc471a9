// GPU launches of the parameter updates (update.hpp): gradient norms, Adam/SGD with clipping
// and plasticity, the per-network divergence check, projection (and alpha's clamp), growth.
#include "cuda/launch.cuh"
#include "kernels/update.hpp"

CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::OptimizerUpdate)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::ProjectWeights)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::ClampAlpha)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::GrowSynapses)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::DivergenceGate)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::UpdateNonFinite)
