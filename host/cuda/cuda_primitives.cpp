// CudaPrims (see cuda_primitives.hpp): buffers, the stream and cuBLAS handle, the GEMM mapping,
// transfers through pinned staging, and the error path.
#include "cuda/cuda_primitives.hpp"

#include <cstdlib>
#include <cstring>
#include <limits>

#include "ctrnn/error.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/gemm_mapping.hpp"
#include "kernels/reduce.hpp"

namespace ctrnn::cuda {

void throw_cuda_error(const std::string& what, const char* call, const char* file, int line) {
  throw CudaError("ctrnn: CUDA error " + what + " in " + call + " at " + file + ":" + std::to_string(line));
}

void check_launch(const char* kernel, cudaStream_t stream, const char* file, int line) {
  static const bool sync = [] {
    const char* v = std::getenv("CTRNN_CUDA_SYNC_CHECK");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  const std::string call = std::string("launch of ") + kernel;
  check_cuda(cudaGetLastError(), call.c_str(), file, line);
  if (sync) check_cuda(cudaStreamSynchronize(stream), call.c_str(), file, line);
}

void* device_allocate(size_t bytes) {
  void* p = nullptr;
  CTRNN_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}
void device_release(void* p) noexcept {
  // Work queued on any stream may still use p: wait for it (resizes are rare), then free.
  (void)cudaDeviceSynchronize();
  (void)cudaFree(p);
}
void* pinned_allocate(size_t bytes) {
  void* p = nullptr;
  CTRNN_CUDA_CHECK(cudaMallocHost(&p, bytes));
  return p;
}
void pinned_release(void* p) noexcept { (void)cudaFreeHost(p); }
void device_copy(void* dst, const void* src, size_t bytes) {
  CTRNN_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}

}  // namespace ctrnn::cuda

namespace ctrnn::detail {

namespace {
cudaStream_t as_stream(CUstream_st* s) { return s; }
cublasHandle_t as_handle(cublasContext* h) { return h; }
cublasOperation_t to_cublas(Op op) { return op == Op::N ? CUBLAS_OP_N : CUBLAS_OP_T; }

int to_int(int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw InvalidArgument(what, "a GEMM dimension that fits cuBLAS's int", std::to_string(v));
  return int(v);
}
}  // namespace

CudaPrims::CudaPrims(int device, MathMode math) : device_(device) {
  CTRNN_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  CTRNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  max_blocks_ = prop.multiProcessorCount * 16;  // 16 blocks of 256 threads per SM: enough in flight
  description_ = std::string("cuda: ") + prop.name + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
                 ", device " + std::to_string(device) + "), " + (math == MathMode::TF32 ? "tf32" : "fp32") + " GEMMs";
  try {
    cudaStream_t s = nullptr;
    CTRNN_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    stream_ = s;
    cublasHandle_t h = nullptr;
    CTRNN_CUBLAS_CHECK(cublasCreate(&h));
    cublas_ = h;
    CTRNN_CUBLAS_CHECK(cublasSetStream(h, s));
    // Full float32 unless TF32 tensor cores were asked for (MathMode::TF32, ~3e-4 relative).
    CTRNN_CUBLAS_CHECK(cublasSetMathMode(h, math == MathMode::TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  } catch (...) {
    release();
    throw;
  }
}

CudaPrims::~CudaPrims() { release(); }

void CudaPrims::release() noexcept {
  if (stream_) (void)cudaStreamSynchronize(as_stream(stream_));
  if (cublas_) (void)cublasDestroy(as_handle(cublas_));
  if (stream_) (void)cudaStreamDestroy(as_stream(stream_));
  cublas_ = nullptr;
  stream_ = nullptr;
}

void CudaPrims::gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                     int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                     int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  // The one row-major -> column-major mapping (gemm_mapping.hpp; checked on the host in CI).
  const ColumnMajorGemm g = row_major_to_column_major(ta, tb, M, N, K, A, lda, stride_a, B, ldb, stride_b, C, ldc,
                                                      stride_c, batch);
  CTRNN_CUBLAS_CHECK(cublasSgemmStridedBatched(
      as_handle(cublas_), to_cublas(g.transa), to_cublas(g.transb), to_int(g.m, "gemm m"), to_int(g.n, "gemm n"),
      to_int(g.k, "gemm k"), &alpha, g.A, to_int(g.lda, "gemm lda"), g.stride_a, g.B, to_int(g.ldb, "gemm ldb"),
      g.stride_b, &beta, g.C, to_int(g.ldc, "gemm ldc"), g.stride_c, to_int(g.batch, "gemm batch")));
}

void CudaPrims::column_sums(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                            float* out, int64_t stride_out) {
  kernels::launch_column_sums(stream_, batch, rows, cols, x, stride_x, scale, out, stride_out);
}

template <class T>
void CudaPrims::upload(T* dst, const T* host_src, int64_t n) {
  const size_t bytes = size_t(n) * sizeof(T);
  if (bytes == 0) return;
  if (staging_.size() < bytes) staging_.resize(bytes);
  std::memcpy(staging_.data(), host_src, bytes);
  CTRNN_CUDA_CHECK(cudaMemcpyAsync(dst, staging_.data(), bytes, cudaMemcpyHostToDevice, as_stream(stream_)));
  CTRNN_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream_)));  // staging is free again
}

template <class T>
void CudaPrims::download(T* host_dst, const T* src, int64_t n) {
  const size_t bytes = size_t(n) * sizeof(T);
  if (bytes == 0) return;
  if (staging_.size() < bytes) staging_.resize(bytes);
  CTRNN_CUDA_CHECK(cudaMemcpyAsync(staging_.data(), src, bytes, cudaMemcpyDeviceToHost, as_stream(stream_)));
  CTRNN_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream_)));
  std::memcpy(host_dst, staging_.data(), bytes);
}

void CudaPrims::copy(float* dst, const float* src, int64_t n) {
  if (n <= 0) return;
  CTRNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice, as_stream(stream_)));
}

void CudaPrims::synchronize() { CTRNN_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream_))); }

template void CudaPrims::upload<float>(float*, const float*, int64_t);
template void CudaPrims::upload<double>(double*, const double*, int64_t);
template void CudaPrims::download<float>(float*, const float*, int64_t);
template void CudaPrims::download<double>(double*, const double*, int64_t);

}  // namespace ctrnn::detail
