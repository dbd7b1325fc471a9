// The CUDA backend's error path (cuda_check.hpp). Its own translation unit, with no other CUDA
// code, so that tests can run it against a stub of the CUDA runtime (test_cuda_stubbed).
#include "cuda/cuda_check.hpp"

#include <cstdlib>
#include <cstring>

namespace ctrnn::cuda {

void throw_cuda_error(const std::string& what, const char* call, const char* file, int line) {
  throw CudaError("ctrnn: CUDA error " + what + " in " + call + " at " + file + ":" + std::to_string(line));
}

bool sync_check_enabled() {
  const char* v = std::getenv("CTRNN_CUDA_SYNC_CHECK");
  return v && *v && std::strcmp(v, "0") != 0;
}

void check_launch(const char* kernel, cudaStream_t stream, const char* file, int line) {
  static const bool sync = sync_check_enabled();
  const std::string call = std::string("launch of ") + kernel;
  check_cuda(cudaGetLastError(), call.c_str(), file, line);
  if (!sync) return;
  // While a graph is captured nothing runs (and a synchronization would end the capture): the
  // check then happens after the graph's launch (CudaPrims::run_graph).
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  check_cuda(cudaStreamIsCapturing(stream, &capture), call.c_str(), file, line);
  if (capture == cudaStreamCaptureStatusNone) check_cuda(cudaStreamSynchronize(stream), call.c_str(), file, line);
}

}  // namespace ctrnn::cuda
