// CudaPrims (see cuda_primitives.hpp): buffers, the stream and cuBLAS handle, the GEMM mapping,
// transfers through pinned staging.
#include "cuda/cuda_primitives.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "ctrnn/error.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/device_guard.hpp"
#include "cuda/gemm_mapping.hpp"
#include "cuda/reduce.hpp"

namespace ctrnn::cuda {

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

}  // namespace ctrnn::cuda

namespace ctrnn::detail {

namespace {
cudaStream_t as_stream(CUstream_st* s) { return s; }
cudaEvent_t as_event(CUevent_st* e) { return e; }
cudaGraphExec_t as_exec(CUgraphExec_st* g) { return g; }

bool env_flag(const char* name, bool fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strcmp(v, "0") != 0;
}

// cuBLAS's workspace, ours so that captured GEMMs allocate nothing (cuBLAS recommends 32 MiB on
// Hopper).
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;
// Kept free by memory_available(): cuBLAS's own allocations, graph instantiation, fragmentation.
constexpr int64_t kDeviceMemoryMargin = int64_t(256) << 20;
// Graph executables kept at once (each shape and mode of a call has one); beyond it all are
// dropped and recaptured as used.
constexpr size_t kMaxGraphs = 32;
cublasHandle_t as_handle(cublasContext* h) { return h; }
cublasOperation_t to_cublas(Op op) { return op == Op::N ? CUBLAS_OP_N : CUBLAS_OP_T; }
}  // namespace

CudaPrims::CudaPrims(int device, MathMode math, bool graphs)
    : device_(device), graphs_(graphs && env_flag("CTRNN_CUDA_GRAPHS", true)) {
  const cuda::DeviceGuard on_device(device);  // the stream, handle and buffers are the device's
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
    CTRNN_CUBLAS_CHECK(cuda::cublas::create(&h));
    cublas_ = h;
    CTRNN_CUBLAS_CHECK(cuda::cublas::set_stream(h, s));
    // Full float32 unless TF32 tensor cores were asked for (MathMode::TF32, ~3e-4 relative).
    CTRNN_CUBLAS_CHECK(
        cuda::cublas::set_math_mode(h, math == MathMode::TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    cublas_workspace_.resize(kCublasWorkspaceBytes);
    CTRNN_CUBLAS_CHECK(cuda::cublas::set_workspace(h, cublas_workspace_.data(), kCublasWorkspaceBytes));
    for (CUevent_st** event : events()) {
      cudaEvent_t e = nullptr;
      CTRNN_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      *event = e;
    }
  } catch (...) {
    release();
    throw;
  }
}

CudaPrims::~CudaPrims() { release(); }

void CudaPrims::release() noexcept {
  if (stream_) (void)cudaStreamSynchronize(as_stream(stream_));
  for (auto& [key, exec] : graph_execs_) (void)cudaGraphExecDestroy(as_exec(exec));
  graph_execs_.clear();
  for (CUevent_st** event : events()) {
    if (*event) (void)cudaEventDestroy(as_event(*event));
    *event = nullptr;
  }
  if (cublas_) (void)cuda::cublas::destroy(as_handle(cublas_));
  if (stream_) (void)cudaStreamDestroy(as_stream(stream_));
  cublas_ = nullptr;
  stream_ = nullptr;
}

void CudaPrims::gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                     int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                     int64_t ldc, int64_t stride_c, int64_t batch) {
  // The mapping and the argument list are row_major_sgemm's, which the host tests run too.
  const cublasHandle_t handle = as_handle(cublas_);
  row_major_sgemm(
      [handle](Op transa, Op transb, auto... rest) {
        CTRNN_CUBLAS_CHECK(
            cuda::cublas::sgemm_strided_batched(handle, to_cublas(transa), to_cublas(transb), rest...));
      },
      ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch);
}

void CudaPrims::column_sums(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                            float* out, int64_t stride_out) {
  kernels::launch_column_sums(stream_, batch, rows, cols, x, stride_x, scale, out, stride_out);
}

std::vector<CUevent_st**> CudaPrims::events() {
  std::vector<CUevent_st**> e{&caller_ready_, &backend_done_};
  for (Staging& s : staging_) e.push_back(&s.free);
  return e;
}

CudaPrims::Staging& CudaPrims::next_staging() {
  Staging& slot = staging_[staging_turn_++ % kStagingSlots];
  CTRNN_CUDA_CHECK(cudaEventSynchronize(as_event(slot.free)));  // its last copy has run
  return slot;
}

template <class T>
void CudaPrims::upload(T* dst, const T* host_src, int64_t n) {
  const size_t bytes = size_t(n) * sizeof(T);
  if (bytes == 0) return;
  Staging& slot = next_staging();
  if (slot.buffer.size() < bytes) slot.buffer.resize(bytes);
  std::memcpy(slot.buffer.data(), host_src, bytes);
  CTRNN_CUDA_CHECK(cudaMemcpyAsync(dst, slot.buffer.data(), bytes, cudaMemcpyHostToDevice, as_stream(stream_)));
  CTRNN_CUDA_CHECK(cudaEventRecord(as_event(slot.free), as_stream(stream_)));
}

template <class T>
void CudaPrims::download(T* host_dst, const T* src, int64_t n) {
  const size_t bytes = size_t(n) * sizeof(T);
  if (bytes == 0) return;
  Staging& slot = next_staging();
  if (slot.buffer.size() < bytes) slot.buffer.resize(bytes);
  CTRNN_CUDA_CHECK(cudaMemcpyAsync(slot.buffer.data(), src, bytes, cudaMemcpyDeviceToHost, as_stream(stream_)));
  CTRNN_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream_)));
  std::memcpy(host_dst, slot.buffer.data(), bytes);
}

void CudaPrims::copy(float* dst, const float* src, int64_t n) {
  if (n <= 0) return;
  CTRNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice, as_stream(stream_)));
}

void CudaPrims::synchronize() { CTRNN_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream_))); }

void CudaPrims::wait_for(void* caller) {
  const cudaStream_t s = static_cast<cudaStream_t>(caller);
  if (s) {
    int device = -1;
    CTRNN_CUDA_CHECK(cudaStreamGetDevice(s, &device));
    if (device != device_)
      throw InvalidArgument("stream", "a stream of CUDA device " + std::to_string(device_) + " (the network's)",
                            "a stream of CUDA device " + std::to_string(device));
  }
  CTRNN_CUDA_CHECK(cudaEventRecord(as_event(caller_ready_), s));
  CTRNN_CUDA_CHECK(cudaStreamWaitEvent(as_stream(stream_), as_event(caller_ready_), 0));
}

void CudaPrims::signal(void* caller) {
  CTRNN_CUDA_CHECK(cudaEventRecord(as_event(backend_done_), as_stream(stream_)));
  CTRNN_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(caller), as_event(backend_done_), 0));
}

void CudaPrims::run_graph(const std::string& key, const std::function<void()>& sequence) {
  if (!graphs_) return sequence();
  auto it = graph_execs_.find(key);
  if (it == graph_execs_.end()) {
    // The first call of a key runs launch by launch: module loading, cuBLAS's first-use set-up
    // and its algorithm choice happen outside any capture. The second is captured.
    if (keys_seen_.size() > 1024) keys_seen_.clear();  // many shapes: forget, stay small
    if (keys_seen_.insert(key).second) return sequence();
    if (graph_execs_.size() >= kMaxGraphs) {
      for (auto& [k, exec] : graph_execs_) (void)cudaGraphExecDestroy(as_exec(exec));
      graph_execs_.clear();
      keys_seen_.clear();
    }
    const cudaStream_t s = as_stream(stream_);
    CTRNN_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    cudaGraph_t graph = nullptr;
    try {
      sequence();
    } catch (...) {
      (void)cudaStreamEndCapture(s, &graph);  // ends the capture; the partial graph is dropped
      if (graph) (void)cudaGraphDestroy(graph);
      (void)cudaGetLastError();
      throw;
    }
    CTRNN_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
    (void)cudaGraphDestroy(graph);
    CTRNN_CUDA_CHECK(e);
    it = graph_execs_.emplace(key, exec).first;
  }
  CTRNN_CUDA_CHECK(cudaGraphLaunch(as_exec(it->second), as_stream(stream_)));
  CTRNN_CUDA_CHECK_LAUNCH("a CUDA graph (its kernels were checked when captured)", stream_);
}

void CudaPrims::reserve_reductions(int64_t E) {
  const size_t need = size_t(E) * 256;  // reduce()'s largest grid: 256 blocks per network
  if (partials_.size() < need) partials_.resize(need);
}

int64_t CudaPrims::memory_available() const {
  size_t free = 0, total = 0;
  CTRNN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return std::max<int64_t>(0, int64_t(free) - kDeviceMemoryMargin);
}

template void CudaPrims::upload<float>(float*, const float*, int64_t);
template void CudaPrims::upload<unsigned char>(unsigned char*, const unsigned char*, int64_t);
template void CudaPrims::upload<double>(double*, const double*, int64_t);
template void CudaPrims::download<float>(float*, const float*, int64_t);
template void CudaPrims::download<double>(double*, const double*, int64_t);

}  // namespace ctrnn::detail
