// Device probe for the next design step (a persistent, cluster-resident recurrence; issue 11):
// the device facts that design depends on, measured in one short run of scripts/gpu-check.sh.
// Prints: device limits; the launch cost of a dependent chain of tiny kernels on a stream and as
// graph nodes, and of launching one small graph; per cluster size 1-16, the most clusters active
// at ~200 KB of shared memory and the per-step cost of a cluster barrier plus a distributed-
// shared-memory exchange; cuBLAS sgemm 256x64x256 (the recurrent GEMM at H = 256, B = 64) per
// call in a stream loop and in a graph. Every line starts with "probe:" (gpu-check.sh collects
// them). Built by CMake as bench/gpu_probe when CUDA is on (needs no Google Benchmark).
// By hand: nvcc -O3 -arch=sm_90 -std=c++17 gpu_probe.cu -lcublas -o gpu_probe
#include <cooperative_groups.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

namespace cg = cooperative_groups;
#define CK(x)                                                                                \
  do {                                                                                       \
    cudaError_t e_ = (x);                                                                    \
    if (e_ != cudaSuccess) { printf("probe: CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); return 1; } \
  } while (0)

__global__ void tiny(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * 0.5f + 1.0f;
}

// steps x (write my slice into every peer's buffer, cluster barrier): the per-step cost of a
// cluster-resident recurrence without the arithmetic.
__global__ void cluster_steps(int steps, int floats_per_cta, float* sink) {
  extern __shared__ float buf[];  // [2][cluster][floats_per_cta]
  cg::cluster_group cl = cg::this_cluster();
  const unsigned me = cl.block_rank(), n = cl.num_blocks();
  cl.sync();  // every CTA of the cluster has started before any writes into a peer's shared memory
  for (int s = 0; s < steps; ++s) {
    float* half = buf + (s & 1) * n * floats_per_cta;
    for (unsigned peer = 0; peer < n; ++peer) {
      float* dst = cl.map_shared_rank(half, peer) + me * floats_per_cta;
      for (int k = threadIdx.x; k < floats_per_cta; k += blockDim.x) dst[k] = float(s + k);
    }
    cl.sync();
  }
  if (threadIdx.x == 0) sink[blockIdx.x] = buf[me];
}

// Queues work() (which returns its launch's error) on `st` twice and sets *ms to the second run's
// time: the first run warms up.
template <class Work>
cudaError_t second_run_ms(cudaStream_t st, cudaEvent_t a, cudaEvent_t b, float* ms, const Work& work) {
  for (int run = 0; run < 2; ++run) {
    cudaError_t e = cudaEventRecord(a, st);
    if (e == cudaSuccess) e = work();
    if (e == cudaSuccess) e = cudaEventRecord(b, st);
    if (e == cudaSuccess) e = cudaEventSynchronize(b);
    if (e != cudaSuccess) return e;
  }
  return cudaEventElapsedTime(ms, a, b);
}

int main() {
  int dev = 0;
  cudaDeviceProp p{};
  CK(cudaGetDeviceProperties(&p, dev));
  int smem_optin = 0, clock_khz = 0;
  CK(cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  CK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev));
  printf("probe: device %s sm_%d%d SMs %d clock %d MHz L2 %d KB smem/SM %zu KB smem/block optin %d KB\n", p.name, p.major,
         p.minor, p.multiProcessorCount, clock_khz / 1000, p.l2CacheSize / 1024, p.sharedMemPerMultiprocessor / 1024,
         smem_optin / 1024);

  float* d = nullptr;
  CK(cudaMalloc(&d, 1 << 20));
  CK(cudaMemset(d, 0, 1 << 20));
  cudaStream_t st;
  CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  float ms = 0;

  // 1. dependent chain of tiny kernels: stream vs graph
  const int N = 2000;
  CK(second_run_ms(st, a, b, &ms, [&] {
    for (int i = 0; i < N; ++i) tiny<<<64, 256, 0, st>>>(d, 16384);
    return cudaGetLastError();
  }));
  printf("probe: stream chain: %.2f us per tiny kernel\n", 1e3 * ms / N);
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < N; ++i) tiny<<<64, 256, 0, st>>>(d, 16384);
  CK(cudaStreamEndCapture(st, &g));
  CK(cudaGraphInstantiate(&ge, g, 0));
  CK(second_run_ms(st, a, b, &ms, [&] { return cudaGraphLaunch(ge, st); }));
  printf("probe: graph chain: %.2f us per node\n", 1e3 * ms / N);

  // 1b. launching one small graph (10 tiny nodes), the per-call cost of a replayed step
  cudaGraph_t g10;
  cudaGraphExec_t ge10;
  CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < 10; ++i) tiny<<<64, 256, 0, st>>>(d, 16384);
  CK(cudaStreamEndCapture(st, &g10));
  CK(cudaGraphInstantiate(&ge10, g10, 0));
  const int L = 500;
  CK(second_run_ms(st, a, b, &ms, [&] {
    cudaError_t e = cudaSuccess;
    for (int i = 0; i < L && e == cudaSuccess; ++i) e = cudaGraphLaunch(ge10, st);
    return e;
  }));
  printf("probe: graph of 10 tiny nodes: %.2f us per graph launch\n", 1e3 * ms / L);

  // 2. clusters: occupancy at ~200 KB smem, and per-step barrier + DSMEM exchange
  CK(cudaFuncSetAttribute(cluster_steps, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
  CK(cudaFuncSetAttribute(cluster_steps, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_optin));
  for (int cs : {1, 2, 4, 8, 16}) {
    for (int fpc : {256, 1024}) {  // 1 KB or 4 KB sent by each CTA to every peer per step
      const size_t smem = size_t(2) * cs * fpc * sizeof(float);
      cudaLaunchConfig_t cfg{};
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeClusterDimension;
      attr[0].val.clusterDim.x = cs, attr[0].val.clusterDim.y = 1, attr[0].val.clusterDim.z = 1;
      cfg.attrs = attr, cfg.numAttrs = 1, cfg.blockDim = dim3(256), cfg.stream = st;
      cfg.dynamicSmemBytes = 200 * 1024;  // occupancy question at a W_hid-sized footprint
      cfg.gridDim = dim3(cs * 64);
      int clusters = -1;
      cudaError_t oe = cudaOccupancyMaxActiveClusters(&clusters, cluster_steps, &cfg);
      (void)cudaGetLastError();  // a refusal is an answer here (printed below), not pending for a later check
      cfg.dynamicSmemBytes = smem;
      cfg.gridDim = dim3(cs * 8);  // 8 independent clusters
      const int steps = 10000;
      cudaError_t le = cudaLaunchKernelEx(&cfg, cluster_steps, 10, fpc, d);  // warm-up
      (void)cudaGetLastError();  // a launch refused (a size the device cannot run) is reported, not pending
      CK(cudaStreamSynchronize(st));
      CK(cudaEventRecord(a, st));
      if (le == cudaSuccess) le = cudaLaunchKernelEx(&cfg, cluster_steps, steps, fpc, d);
      (void)cudaGetLastError();
      CK(cudaEventRecord(b, st));
      CK(cudaEventSynchronize(b));
      CK(cudaEventElapsedTime(&ms, a, b));
      printf("probe: cluster %2d: max active clusters @200KB smem %d (%s); %d B/peer/step: %.3f us per step (%s)\n", cs,
             clusters, cudaGetErrorString(oe), int(fpc * sizeof(float)), le == cudaSuccess ? 1e3 * ms / steps : 0.0,
             cudaGetErrorString(le));
    }
  }

  // 3. cuBLAS: the recurrent GEMM of (H=256, B=64), stream loop vs graph
  cublasHandle_t h;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
    printf("probe: cublasCreate failed\n");
    return 1;
  }
  cublasSetStream(h, st);
  void* ws = nullptr;
  CK(cudaMalloc(&ws, 32 << 20));
  cublasSetWorkspace(h, ws, 32 << 20);
  float *A, *B, *C;
  const int H = 256, Bt = 64;
  CK(cudaMalloc(&A, H * H * 4));
  CK(cudaMalloc(&B, Bt * H * 4));
  CK(cudaMalloc(&C, Bt * H * 4));
  CK(cudaMemset(A, 0, H * H * 4));
  CK(cudaMemset(B, 0, Bt * H * 4));
  const float one = 1, zero = 0;
  auto gemm = [&] {
    return cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, H, Bt, H, &one, A, H, 0, B, H, 0, &zero, C, H, 0, 1);
  };
  const int M = 1000;
  CK(second_run_ms(st, a, b, &ms, [&] {
    for (int i = 0; i < M; ++i) gemm();
    return cudaGetLastError();
  }));
  printf("probe: cublas sgemm 256x64x256: stream %.2f us per call\n", 1e3 * ms / M);
  CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < M; ++i) gemm();
  CK(cudaStreamEndCapture(st, &g));
  size_t nodes = 0;
  CK(cudaGraphGetNodes(g, nullptr, &nodes));
  CK(cudaGraphInstantiate(&ge, g, 0));
  CK(second_run_ms(st, a, b, &ms, [&] { return cudaGraphLaunch(ge, st); }));
  printf("probe: cublas sgemm 256x64x256: graph %.2f us per call (%.2f kernels per call)\n", 1e3 * ms / M,
         double(nodes) / M);
  printf("probe: done\n");
  return 0;
}
