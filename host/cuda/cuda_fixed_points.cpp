// The GPU's fixed-point search: the primitives engine over CudaPrims on the current device
// (the bodies' launches are instantiated in fixed_point.cu).
#include <cuda_runtime_api.h>

#include "analysis/search_backends.hpp"
#include "ctrnn/error.hpp"
#include "cuda/cuda_primitives.hpp"

namespace ctrnn::detail {

SearchOutcome search_on_cuda(const SearchProblem& s, const FixedPointOptions& o, std::vector<double>& x) {
  int device = 0;
  const cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) throw StateError(std::string("ctrnn: cudaGetDevice failed: ") + cudaGetErrorString(e));
  CudaPrims prims(device, MathMode::FP32, /*graphs=*/false);
  SearchOutcome out = search_with(prims, s, o, x);
  prims.synchronize();
  return out;
}

}  // namespace ctrnn::detail
