// The host's standard normals (issue 21: the noise was ~65% of a noisy CPU train step): 2048
// normals (B H = 32 x 64, one network's draws of one time step) of one RandomStream, drawn
//   normal_loop       element by element with RandomStream::normal(i), as the CPU backend did
//                     before host/normal_fill.hpp (a whole Philox block, a log and a sine or cosine
//                     per element)
//   fill/<isa>        with fill_normals on one instruction set (scalar: libm, each block, radius
//                     and angle once; avx2, avx512: 16 blocks per vector pass, the vector log and
//                     sine/cosine), skipped where the CPU lacks it
// Counter ns_per_normal: time per normal. All paths give the same bits (tests/test_normal_fill.cpp).
#include <benchmark/benchmark.h>

#include <vector>

#include "normal_fill.hpp"

namespace {

constexpr int64_t kCount = 32 * 64;

void set_counter(benchmark::State& state) {
  state.counters["ns_per_normal"] = benchmark::Counter(
      double(kCount) * 1e-9, benchmark::Counter::Flags(benchmark::Counter::kIsIterationInvariantRate |
                                                       benchmark::Counter::kInvert));
}

void bm_normal_loop(benchmark::State& state) {
  std::vector<float> out(kCount);
  uint32_t step = 0;
  for (auto _ : state) {
    const ctrnn::RandomStream s(1, ctrnn::RandomPurpose::PreactNoise, 0, step++, 0);
    for (int64_t i = 0; i < kCount; ++i) out[size_t(i)] = s.normal(uint32_t(i));
    benchmark::DoNotOptimize(out.data());
  }
  set_counter(state);
}

void bm_fill(benchmark::State& state, ctrnn::detail::NormalIsa isa) {
  if (!ctrnn::detail::normal_isa_available(isa)) return state.SkipWithError("this CPU lacks the instruction set");
  std::vector<float> out(kCount);
  uint32_t step = 0;
  for (auto _ : state) {
    const ctrnn::RandomStream s(1, ctrnn::RandomPurpose::PreactNoise, 0, step++, 0);
    ctrnn::detail::fill_normals(s, 0, kCount, out.data(), isa);
    benchmark::DoNotOptimize(out.data());
  }
  set_counter(state);
}

}  // namespace

int main(int argc, char** argv) {
  using ctrnn::detail::NormalIsa;
  benchmark::RegisterBenchmark("normal_loop", bm_normal_loop)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("fill/scalar", bm_fill, NormalIsa::Scalar)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("fill/avx2", bm_fill, NormalIsa::Avx2)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("fill/avx512", bm_fill, NormalIsa::Avx512)->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
