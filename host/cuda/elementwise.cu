// GPU launches of the small element-wise bodies of elementwise.hpp.
#include "cuda/launch.cuh"
#include "kernels/elementwise.hpp"

CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::Fill<float>)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::Fill<double>)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::Fill<uint32_t>)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::BroadcastRows)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::AddInto)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::GatherSlabs)
