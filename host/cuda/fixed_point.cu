// GPU launches of the fixed-point search's bodies (kernels/fixed_point.hpp).
#include "cuda/launch.cuh"
#include "kernels/fixed_point.hpp"

CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::FpActivate)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::FpResidual)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::FpGradient)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::FpAdam)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::FpSquares)
