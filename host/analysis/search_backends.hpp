#pragma once
// Where a float network's search runs (find_fixed_points picks by the network's device):
// search_on_blas, the engine over BlasHostPrims (blas_search.cpp, builds with OpenBLAS: the CPU
// backend's products); search_on_cuda, over CudaPrims on the current CUDA device
// (host/cuda/cuda_fixed_points.cpp; throws StateError in builds without CUDA). Each fills x with
// the final states (E, N, H).
#include <vector>

#include "analysis/prims_search.hpp"

namespace ctrnn::detail {

SearchOutcome search_on_blas(const SearchProblem& s, const FixedPointOptions& o, std::vector<double>& x);
SearchOutcome search_on_cuda(const SearchProblem& s, const FixedPointOptions& o, std::vector<double>& x);

}  // namespace ctrnn::detail
