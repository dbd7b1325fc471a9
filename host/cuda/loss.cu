// GPU launches of the loss (loss.hpp): the per-network sums (MSE, weight norms, firing-rate
// statistics) and the gradients dL/dy, dL/dW (weight terms) and dL/dr (firing-rate terms).
#include "cuda/launch.cuh"
#include "kernels/loss.hpp"

CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::MseNumerator)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::MseDenominator)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::SumOfSquares)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::SquaredMeanRate)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::SquaredMeanRateVariance)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::CvSum)
CTRNN_INSTANTIATE_REDUCE(ctrnn::kernels::CvVariance)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::MseGrad)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::WeightTermGrad)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::FiringRateGrad)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::MeanAbsRate)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::CvGrad)
CTRNN_INSTANTIATE_APPLY(ctrnn::kernels::LossTerms)
