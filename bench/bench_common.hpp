#pragma once
// Shared pieces of the benchmark binaries (bench_forward, bench_train_step): the size grid, the
// network they time, the inputs, the FLOP model, the GPU's fp32 peak and the counters.
//
// Benchmark names: <mode>/<device>/H:<H>/B:<B>/T:<T>/E:<E>, e.g. forward/cpu/H:64/B:32/T:100/E:1.
// Select with --benchmark_filter (a regex; a leading '-' negates it), e.g.
//   --benchmark_filter='cpu/H:64/'         the smallest CPU sizes only
//   --benchmark_filter='-H:1024'           everything but the largest size
//
// The network: dims [I, H, O] = [4, H, 4], nn4n's defaults otherwise (relu, uniform weights, no
// biases, tau 100, dt 10, no noise, init_state zero), training mode, seed 1. Inputs u (T, B, I)
// and targets (T, B, O) are uniform in [-1, 1] (fixed seed), shared by all E networks.
//
// Each result's label is the backend that ran (Network::device_description(), e.g. "cpu
// (OpenBLAS 0.3.21, 1 threads)" or "cpu (reference)"). The CPU backend over OpenBLAS uses
// OpenBLAS's threads: set OPENBLAS_NUM_THREADS=1 for a single-threaded run.
//
// Time is wall-clock (UseRealTime). One untimed step runs before the timed loop (first-touch
// allocation, cuBLAS handles, module load, the capture of the CUDA graphs). On the GPU every
// timed iteration ends with cudaDeviceSynchronize, so the time covers all of the step's device
// work. What is timed is the computation: forward leaves y and r on the device
// (ForwardCopy::Nothing) unless the mode says it copies them; a training step copies back only
// its loss report, as Trainer::step always does.
//
// Counters (all per iteration = one call of forward() or Trainer::step() over the whole sequence):
//   s_per_step      seconds per time step of the whole batch of all E networks: time / T
//   s_per_net_step  seconds per time step of one network's batch of B sequences: time / (T E)
//   s_per_seq_step  seconds per time step of one sequence of one network: time / (T E B)
//   FLOP/s          modelled FLOPs (flops_forward or 3x for a training step, see below) / time
//   GFLOP           modelled FLOPs of one iteration, in units of 1e9
//   peak_frac       (GPU only) FLOP/s over the device's fp32 peak (gpu_fp32_peak_flops())
//
// FLOP model, one forward time step of one network: 2 B H^2 (recurrent) + 2 B I H (input)
// + 2 B H O (readout); elementwise work is not counted. A training step counts 3x the forward:
// each forward product has two of the same size in BPTT (the input gradient, e.g. dv W_hid^T,
// and the weight gradient, e.g. r^T dv); the loss and the Adam update are not counted.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ctrnn/config.hpp"
#include "ctrnn/device.hpp"
#include "ctrnn/tensor.hpp"

#ifdef CTRNN_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace ctrnn_bench {

inline constexpr int64_t kInputs = 4;   // I
inline constexpr int64_t kOutputs = 4;  // O

struct Size {
  int64_t H, B, T, E;
};

// The grid: (H, B, T) in {(64, 32, 100), (256, 64, 200), (1024, 256, 200)} with E = 1, and E = 64
// for the first two.
inline std::vector<Size> size_grid() {
  return {{64, 32, 100, 1}, {256, 64, 200, 1}, {1024, 256, 200, 1}, {64, 32, 100, 64}, {256, 64, 200, 64}};
}

// Sequence lengths at (H, B) = (256, 64), E = 1 and 64: per-call against per-step cost.
inline std::vector<Size> length_grid() {
  std::vector<Size> sizes;
  for (int64_t E : {1, 64})
    for (int64_t T : {1, 10, 100, 1000}) sizes.push_back({256, 64, T, E});
  return sizes;
}

inline std::string bench_name(const std::string& mode, ctrnn::Device d, const Size& s) {
  return mode + "/" + (d == ctrnn::Device::Cuda ? "cuda" : "cpu") + "/H:" + std::to_string(s.H) +
         "/B:" + std::to_string(s.B) + "/T:" + std::to_string(s.T) + "/E:" + std::to_string(s.E);
}

inline ctrnn::Config make_config(const Size& s) {
  ctrnn::Config c;
  c.dims = {kInputs, s.H, kOutputs};
  c.ensemble_size = s.E;
  c.seed = 1;
  return c;  // everything else: nn4n's defaults
}

inline ctrnn::Tensor<float> uniform_tensor(ctrnn::Shape shape, uint32_t seed) {
  ctrnn::Tensor<float> t(std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : t.data) x = dist(rng);
  return t;
}

// Modelled FLOPs of one forward pass over the whole sequence, all E networks.
inline double forward_flops(const Size& s) {
  const double B = double(s.B), H = double(s.H), I = double(kInputs), O = double(kOutputs);
  return double(s.T) * double(s.E) * (2 * B * H * H + 2 * B * I * H + 2 * B * H * O);
}

// The fp32 peak of device 0 in FLOP/s: SMs x max clock x fp32 lanes per SM x 2 (FMA). Lanes per
// SM by compute capability: 128 for 8.6, 8.7, 8.9, 9.x, 10.x and later; 64 for 6.0, 7.x, 8.0.
// Without CUDA or when the query fails: the H100 SXM figure, 66.9e12 (132 SMs x 1.98 GHz x 256).
inline double gpu_fp32_peak_flops(std::string* how = nullptr) {
  const double h100_sxm = 132.0 * 1.98e9 * 128 * 2;
#ifdef CTRNN_WITH_CUDA
  int sms = 0, clock_khz = 0, major = 0, minor = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0) == cudaSuccess &&
      cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0) == cudaSuccess &&
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0) == cudaSuccess &&
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0) == cudaSuccess && sms > 0 &&
      clock_khz > 0) {
    const int lanes = (major >= 9 || (major == 8 && minor > 0)) ? 128 : 64;
    if (how)
      *how = std::to_string(sms) + " SMs x " + std::to_string(clock_khz / 1000) + " MHz x " + std::to_string(lanes) +
             " fp32 lanes x 2 (sm_" + std::to_string(major) + std::to_string(minor) + ")";
    return double(sms) * double(clock_khz) * 1e3 * lanes * 2;
  }
  cudaGetLastError();
#endif
  if (how) *how = "not queried: H100 SXM figure 132 SMs x 1980 MHz x 128 x 2";
  return h100_sxm;
}

// The peak DRAM bandwidth of device 0 in bytes/s (2 x memory clock x bus width), 0 if unknown.
inline double gpu_dram_bandwidth() {
#ifdef CTRNN_WITH_CUDA
  int mem_khz = 0, bus_bits = 0;
  if (cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0) == cudaSuccess &&
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) == cudaSuccess)
    return 2.0 * double(mem_khz) * 1e3 * double(bus_bits) / 8.0;
  cudaGetLastError();
#endif
  return 0;
}

// Waits for all device work (no-op on the CPU). Returns false on a CUDA error.
inline bool device_sync(ctrnn::Device d) {
#ifdef CTRNN_WITH_CUDA
  if (d == ctrnn::Device::Cuda) return cudaDeviceSynchronize() == cudaSuccess;
#else
  (void)d;
#endif
  return true;
}

inline void set_counters(benchmark::State& state, const Size& s, ctrnn::Device d, double flops) {
  using benchmark::Counter;
  const auto per = Counter::Flags(Counter::kIsIterationInvariantRate | Counter::kInvert);
  state.counters["s_per_step"] = Counter(double(s.T), per);
  state.counters["s_per_net_step"] = Counter(double(s.T * s.E), per);
  state.counters["s_per_seq_step"] = Counter(double(s.T * s.E * s.B), per);
  state.counters["FLOP/s"] = Counter(flops, Counter::kIsIterationInvariantRate, Counter::kIs1000);
  state.counters["GFLOP"] = Counter(flops * 1e-9);
  if (d == ctrnn::Device::Cuda)
    state.counters["peak_frac"] = Counter(flops / gpu_fp32_peak_flops(), Counter::kIsIterationInvariantRate);
}

// The binary's context (device, model, peak): once per binary, whatever the number of modes. Not
// inside register_all: a static there would be one per instantiation, i.e. per mode.
inline void add_context_once(bool gpu) {
  static bool added = false;
  if (added) return;
  added = true;
  benchmark::AddCustomContext("ctrnn_cuda_available", gpu ? "true" : "false");
  benchmark::AddCustomContext("ctrnn_model", "dims [4, H, 4], relu, uniform weights, no biases, alpha 0.1, no noise");
  benchmark::AddCustomContext("ctrnn_flop_model", "forward step: 2BH^2 + 2BIH + 2BHO per network; train step: 3x");
  if (gpu) {
    std::string how;
    const double peak = gpu_fp32_peak_flops(&how);
    benchmark::AddCustomContext("gpu_fp32_peak_flops", std::to_string(peak));
    benchmark::AddCustomContext("gpu_fp32_peak_source", how);
    benchmark::AddCustomContext("gpu_dram_bytes_per_s", std::to_string(gpu_dram_bandwidth()));
  }
}

// Registers fn for every size of `grid` on the CPU (unless gpu_only) and, when a GPU is present,
// on CUDA; adds context (device, peak). fn(state, size, device).
template <class Fn>
void register_all(const std::string& mode, Fn fn, const std::vector<Size>& grid = size_grid(), bool gpu_only = false) {
  std::vector<ctrnn::Device> devices;
  const bool gpu = ctrnn::cuda_available();
  if (!gpu_only) devices.push_back(ctrnn::Device::Cpu);
  if (gpu) devices.push_back(ctrnn::Device::Cuda);
  for (ctrnn::Device d : devices)
    for (const Size& s : grid)
      benchmark::RegisterBenchmark(bench_name(mode, d, s).c_str(),
                                   [fn, s, d](benchmark::State& st) { fn(st, s, d); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  add_context_once(gpu);
}

inline int run_main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace ctrnn_bench
