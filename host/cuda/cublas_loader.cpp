// cuBLAS loaded on first use (cublas.hpp). Linking libcublas directly runs its (and
// cublasLt's) static initializers in every process, about 0.5 s before main() even for
// `--device cpu` (profiled: call_init of libcublasLt). Instead the library calls cuBLAS through
// forwarders that dlopen libcublas the first time one is called, so only a GPU run pays for it.
// A new cuBLAS call needs its forwarder here and in cublas.hpp.
#include "cuda/cublas.hpp"

#include <dlfcn.h>

#include "ctrnn/error.hpp"
#include "cuda/lazy_library.hpp"

namespace ctrnn::cuda::cublas {
LazyLibrary& library() {
  static LazyLibrary cublas("cuBLAS", {CTRNN_CUBLAS_SONAME, CTRNN_CUBLAS_PATH});
  return cublas;
}
}  // namespace ctrnn::cuda::cublas

namespace {

template <class F>
F cublas_function(const char* name) {
  void* f = dlsym(ctrnn::cuda::cublas::library().handle(), name);
  if (!f) throw ctrnn::StateError(std::string("ctrnn: cuBLAS has no function ") + name);
  return reinterpret_cast<F>(f);
}

}  // namespace

// Each forwarder looks its function up once; the signatures are cublas_api.h's.
#define CTRNN_FORWARD(ret, name, cublas_name, params, args)                          \
  ret name params {                                                                \
    static const auto f = cublas_function<ret(CUBLASWINAPI*) params>(#cublas_name); \
    return f args;                                                                 \
  }

namespace ctrnn::cuda::cublas {

CTRNN_FORWARD(cublasStatus_t, create, cublasCreate_v2, (cublasHandle_t * handle), (handle))
CTRNN_FORWARD(cublasStatus_t, destroy, cublasDestroy_v2, (cublasHandle_t handle), (handle))
CTRNN_FORWARD(cublasStatus_t, set_stream, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t stream),
              (handle, stream))
CTRNN_FORWARD(cublasStatus_t, set_workspace, cublasSetWorkspace_v2,
              (cublasHandle_t handle, void* workspace, size_t bytes), (handle, workspace, bytes))
CTRNN_FORWARD(cublasStatus_t, set_math_mode, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode),
              (handle, mode))
CTRNN_FORWARD(const char*, status_name, cublasGetStatusName, (cublasStatus_t status), (status))
CTRNN_FORWARD(const char*, status_string, cublasGetStatusString, (cublasStatus_t status), (status))
CTRNN_FORWARD(cublasStatus_t, sgemm_strided_batched, cublasSgemmStridedBatched,
              (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
               const float* alpha, const float* A, int lda, long long int strideA, const float* B, int ldb,
               long long int strideB, const float* beta, float* C, int ldc, long long int strideC, int batchCount),
              (handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC,
               batchCount))

}  // namespace ctrnn::cuda::cublas
