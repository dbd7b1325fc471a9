#pragma once
// The CUDA implementation of primitives.hpp: a stream and a cuBLAS handle per backend object,
// cuBLAS strided-batched SGEMM (the row-major -> column-major mapping and argument list are
// gemm_mapping.hpp's), grid-stride launches of CTRNN_HD bodies, deterministic two-pass
// reductions, pinned staging for host transfers (uploads are asynchronous: the host data is
// copied into one of a few pinned slots, used in turn, each reused once its last copy has run, so
// the host waits only when the device is that many uploads behind), events that order its stream
// with a caller's, and CUDA graphs:
// run_graph runs a sequence launch by launch the first time a key is seen, captures it the second
// time and replays it from then on (graphs can be switched off, for the
// cross-check, with CudaPrims::Options or CTRNN_CUDA_GRAPHS=0). apply<F> and reduce<F> are
// defined in launch.cuh and instantiated, body by body (the bodies are kernels/*.hpp), in the
// *.cu files beside it; a body used here but instantiated nowhere fails at link time.
// This header needs no CUDA header (the handles are forward-declared).
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ctrnn/device.hpp"
#include "ctrnn/view.hpp"
#include "cuda/device_buffer.hpp"
#include "orchestrated/primitives.hpp"

struct CUstream_st;
struct cublasContext;
struct CUevent_st;
struct CUgraphExec_st;

namespace ctrnn::detail {

class CudaPrims {
 public:
  template <class T>
  using Buffer = cuda::DeviceBuffer<T>;

  // graphs: capture and replay run_graph sections (false: run them launch by launch). Throws
  // cuda::CudaError.
  CudaPrims(int device, MathMode math, bool graphs = true);
  ~CudaPrims();
  CudaPrims(const CudaPrims&) = delete;
  CudaPrims& operator=(const CudaPrims&) = delete;

  Device device() const { return Device::Cuda; }
  std::string description() const { return description_; }

  void gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
            int64_t stride_c, int64_t batch);
  template <class F>
  void apply(int64_t n, const F& body);
  template <class F>
  void reduce(int64_t E, int64_t n, const F& body, double* out, bool accumulate);
  void column_sums(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                   float* out, int64_t stride_out);
  template <class T>
  void upload(T* dst, const T* host_src, int64_t n);
  template <class T>
  void download(T* host_dst, const T* src, int64_t n);
  void copy(float* dst, const float* src, int64_t n);
  void synchronize();

  // The backend's stream after the work queued so far on the caller's stream `caller` (a
  // cudaStream_t; null: the default stream), and `caller`'s later work after the backend's stream
  // so far: an event each way, the host does not wait. wait_for refuses (InvalidArgument
  // "stream") a stream of another device.
  void wait_for(void* caller);
  void signal(void* caller);
  int device_index() const { return device_; }

  // See primitives.hpp's optional primitives (the free functions below forward here).
  void run_graph(const std::string& key, const std::function<void()>& sequence);
  void reserve_reductions(int64_t E);
  int64_t memory_available() const;  // cudaMemGetInfo's free bytes, less a margin for cuBLAS
  bool graphs() const { return graphs_; }

  CUstream_st* stream() const { return stream_; }
  int max_blocks() const { return max_blocks_; }  // grid size cap for grid-stride launches

 private:
  void release() noexcept;

  int device_ = 0;
  int max_blocks_ = 1;
  std::string description_;
  CUstream_st* stream_ = nullptr;
  cublasContext* cublas_ = nullptr;
  struct Staging {
    cuda::PinnedBuffer<unsigned char> buffer;  // host side of an upload or download
    CUevent_st* free = nullptr;                // recorded after the last copy out of buffer
  };
  Staging& next_staging();  // the next slot, once its last copy has run
  std::vector<CUevent_st**> events();  // every event member, to create and destroy them
  static constexpr size_t kStagingSlots = 4;
  std::array<Staging, kStagingSlots> staging_;
  size_t staging_turn_ = 0;
  CUevent_st* caller_ready_ = nullptr;  // wait_for: recorded on the caller's stream
  CUevent_st* backend_done_ = nullptr;  // signal: recorded on the backend's stream
  cuda::DeviceBuffer<double> partials_;        // per-block sums of reduce()
  cuda::DeviceBuffer<unsigned char> cublas_workspace_;  // cuBLAS's, so captures allocate nothing
  bool graphs_ = true;
  std::unordered_map<std::string, CUgraphExec_st*> graph_execs_;
  std::unordered_set<std::string> keys_seen_;  // keys run once (launch by launch), not yet captured
};

template <class F>
void run_graph(CudaPrims& p, const std::string& key, F&& sequence) {
  p.run_graph(key, std::function<void()>(std::forward<F>(sequence)));
}
inline void reserve_reductions(CudaPrims& p, int64_t E) { p.reserve_reductions(E); }
inline int64_t memory_available(const CudaPrims& p) { return p.memory_available(); }
inline Location location_of(const CudaPrims& p) { return Location::cuda(p.device_index()); }
inline void wait_for_stream(CudaPrims& p, Stream s) { p.wait_for(s.handle); }
inline void signal_stream(CudaPrims& p, Stream s) { p.signal(s.handle); }

}  // namespace ctrnn::detail
