// The CPU backend's fixed-point search: the primitives engine over OpenBLAS (builds with BLAS).
#include "analysis/search_backends.hpp"
#include "orchestrated/blas_primitives.hpp"

namespace ctrnn::detail {

SearchOutcome search_on_blas(const SearchProblem& s, const FixedPointOptions& o, std::vector<double>& x) {
  BlasHostPrims prims;
  return search_with(prims, s, o, x);
}

}  // namespace ctrnn::detail
