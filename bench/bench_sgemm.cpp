// OpenBLAS's single-threaded sgemm on exactly the products of the CPU backend's forward pass and
// training step, for each size of the grid (bench_common.hpp): the time a backend that did
// nothing but these products would take, against which the CPU backend's time is read
// (bench/peer_bench.py reports forward and train step as a fraction of it: sgemm time / ctrnn
// time, 1 = nothing but the products).
//
//   sgemm_forward/cpu/H:../B:../T:../E:..     per network: the input drive (T B x H, K = I), T
//       recurrent products (B x H, K = H, accumulating), the readout (T B x O, K = H); the FLOP
//       model's forward_flops exactly.
//   sgemm_train_step/cpu/...                  the forward's products, then BPTT's: gy W_out^T
//       (T B x H, K = O), T products dv W_hid^T (B x H, K = H), and the weight gradients
//       r^T dv (H x H, K = T B), u^T dv (I x H, K = T B), r^T gy (H x O, K = T B). The W^T
//       products are NN products of transposed copies, as the backend computes them (its
//       BlasHostPrims::transpose; the copies, made once per BPTT, are not timed here).
//
//   sgemm_steps/..., sgemm_weight_gradients/...  the T per-step products of both passes alone;
//       the three weight gradients alone.
//   small_<part>/..., small_avx2_<part>/...   the same with the products the CPU backend gives its
//       own kernel (small_sgemm_takes, host/orchestrated/small_gemm.hpp) computed by it, on the
//       best instruction set or on AVX2; OpenBLAS for the rest.
//   <kernel>shape/NAME/NN|TN/M:../N:../K:..  one product shape of the backend alone, hot in cache:
//       the measurements behind small_sgemm_takes (OpenBLAS's AVX2 kernels: OPENBLAS_CORETYPE=Haswell).
//
// Operands are laid out as the backend holds them (one network's r, v, work slabs contiguous,
// networks a slab apart), so the products see the same strides and cache footprint. Values are
// uniform in [-0.1, 0.1] (no denormals, no overflow). One thread: OpenBLAS is set to 1 thread.
// Counters: FLOP/s (the products' FLOPs per second) and GFLOP per iteration.
#include <random>
#include <vector>

#include "bench_common.hpp"
#include "orchestrated/openblas_api.hpp"
#include "orchestrated/small_gemm.hpp"

namespace {

using ctrnn_bench::kInputs;
using ctrnn_bench::kOutputs;
using ctrnn_bench::Size;

// Which code computes the products: OpenBLAS for all of them, or as the CPU backend does, the
// shapes small_sgemm_takes by its kernel (small_gemm.hpp) on the given instruction set.
enum class Kernel { OpenBlas, Small, SmallAvx2 };
Kernel g_kernel = Kernel::OpenBlas;

// Row-major C (M x N) = op(A) op(B) + beta C, leading dimensions those of the stored matrices.
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, const float* B, float beta, float* C) {
  const ctrnn::detail::GemmIsa isa = g_kernel == Kernel::SmallAvx2 ? ctrnn::detail::GemmIsa::Avx2 : ctrnn::detail::GemmIsa::Best;
  if (g_kernel != Kernel::OpenBlas && !tb && ctrnn::detail::small_sgemm_takes(ta, M, N, K, isa)) {
    ctrnn::detail::small_sgemm(ta, M, N, K, 1.0f, A, ta ? M : K, B, N, beta, C, N, isa);
    return;
  }
  CTRNN_OPENBLAS(cblas_sgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                              blasint(M), blasint(N), blasint(K), 1.0f, A, blasint(ta ? M : K), B,
                              blasint(tb ? K : N), beta, C, blasint(N));
}

std::vector<float> filled(int64_t n, uint32_t seed) {
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-0.1f, 0.1f);
  for (float& v : x) v = d(rng);
  return x;
}

struct Operands {
  int64_t H, B, T, E, I = kInputs, O = kOutputs, BH, TB, state;
  std::vector<float> u, w_in, w_hid, w_out, w_hid_t, w_out_t, work, r, y, gy, dv, dr0, dw_in, dw_hid, dw_out;
  explicit Operands(const Size& s)
      : H(s.H), B(s.B), T(s.T), E(s.E), BH(s.B * s.H), TB(s.T * s.B), state((s.T + 1) * s.B * s.H),
        u(filled(TB * I, 1)), w_in(filled(E * I * H, 2)), w_hid(filled(E * H * H, 3)), w_out(filled(E * H * O, 4)),
        w_hid_t(filled(E * H * H, 10)), w_out_t(filled(E * O * H, 11)),
        work(filled(E * TB * H, 5)), r(filled(E * state, 6)), y(filled(E * TB * O, 7)), gy(filled(E * TB * O, 8)),
        dv(filled(E * state, 9)), dr0(size_t(E * BH)), dw_in(size_t(E * I * H)), dw_hid(size_t(E * H * H)), dw_out(size_t(E * H * O)) {}

  void forward() {
    for (int64_t e = 0; e < E; ++e) gemm(false, false, TB, H, I, u.data(), w_in.data() + e * I * H, 0.0f, work.data() + e * TB * H);
    forward_steps();
    for (int64_t e = 0; e < E; ++e)
      gemm(false, false, TB, O, H, r.data() + e * state + BH, w_out.data() + e * H * O, 1.0f, y.data() + e * TB * O);
  }
  void forward_steps() {
    for (int64_t t = 1; t <= T; ++t)
      for (int64_t e = 0; e < E; ++e)
        gemm(false, false, B, H, H, r.data() + e * state + (t - 1) * BH, w_hid.data() + e * H * H, 1.0f,
             work.data() + e * TB * H + (t - 1) * BH);
  }
  void backward() {
    for (int64_t e = 0; e < E; ++e)
      gemm(false, false, TB, H, O, gy.data() + e * TB * O, w_out_t.data() + e * O * H, 0.0f, work.data() + e * TB * H);
    backward_steps();
    weight_gradients();
  }
  void backward_steps() {
    for (int64_t t = T - 1; t >= 0; --t)  // dr_t += dv_{t+1} W_hid^T; dr_0 has a slab of its own
      for (int64_t e = 0; e < E; ++e)
        gemm(false, false, B, H, H, dv.data() + e * state + (t + 1) * BH, w_hid_t.data() + e * H * H, t ? 1.0f : 0.0f,
             t ? work.data() + e * TB * H + (t - 1) * BH : dr0.data() + e * BH);
  }
  void weight_gradients() {
    for (int64_t e = 0; e < E; ++e) {
      const float* dv1 = dv.data() + e * state + BH;
      gemm(true, false, H, H, TB, r.data() + e * state, dv1, 0.0f, dw_hid.data() + e * H * H);
      gemm(true, false, I, H, TB, u.data(), dv1, 0.0f, dw_in.data() + e * I * H);
      gemm(true, false, H, O, TB, r.data() + e * state + BH, gy.data() + e * TB * O, 0.0f, dw_out.data() + e * H * O);
    }
  }
  double forward_flops() const { return ctrnn_bench::forward_flops({H, B, T, E}); }
  double backward_flops() const {
    return 2.0 * double(E) * (double(TB) * H * O + double(T) * B * H * H + double(TB) * (H * H + I * H + H * O));
  }
};

// The parts of the products timed: the forward's, the training step's, the per-step recurrent
// products of both passes alone, the weight gradients alone.
enum class Part { Forward, TrainStep, Steps, WeightGradients };

void bm_products(benchmark::State& state, const Size& s, Part part, Kernel kernel) {
  Operands ops(s);
  auto run = [&] {
    if (part == Part::Steps) return ops.forward_steps(), ops.backward_steps();
    if (part == Part::WeightGradients) return ops.weight_gradients();
    ops.forward();
    if (part == Part::TrainStep) ops.backward();
  };
  g_kernel = kernel;
  run();  // warm-up, untimed (first touch, OpenBLAS's buffers)
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(ops.work.data());
    benchmark::ClobberMemory();
  }
  const double H = double(s.H), TB = double(ops.TB), E = double(s.E);
  const double flops = part == Part::Steps             ? 4.0 * E * double(s.T) * double(s.B) * H * H
                       : part == Part::WeightGradients ? 2.0 * E * TB * (H * H + double(ops.I) * H + H * double(ops.O))
                                                       : ops.forward_flops() + (part == Part::TrainStep ? ops.backward_flops() : 0.0);
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
  state.counters["GFLOP"] = benchmark::Counter(flops * 1e-9);
  state.SetLabel(kernel == Kernel::OpenBlas ? std::string(OPENBLAS_VERSION) + CTRNN_OPENBLAS(openblas_get_corename)() + " kernels, 1 thread"
                 : kernel == Kernel::Small  ? "small_sgemm where it takes the shape (best instruction set), else OpenBLAS"
                                            : "small_sgemm where it takes the shape (AVX2), else OpenBLAS");
}

// One product shape alone, C (M x N) = op(A) B (+ C when accumulating), by OpenBLAS or by
// small_sgemm on an instruction set: the measurements behind small_sgemm_takes.
void bm_shape(benchmark::State& state, bool ta, int64_t M, int64_t N, int64_t K, float beta, Kernel kernel) {
  const std::vector<float> A = filled(M * K, 1), B = filled(K * N, 2);
  std::vector<float> C = filled(M * N, 3);
  const ctrnn::detail::GemmIsa isa = kernel == Kernel::SmallAvx2 ? ctrnn::detail::GemmIsa::Avx2 : ctrnn::detail::GemmIsa::Best;
  for (auto _ : state) {
    if (kernel == Kernel::OpenBlas)
      CTRNN_OPENBLAS(cblas_sgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, blasint(M), blasint(N),
                                  blasint(K), 1.0f, A.data(), blasint(ta ? M : K), B.data(), blasint(N), beta, C.data(),
                                  blasint(N));
    else
      ctrnn::detail::small_sgemm(ta, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), N, beta, C.data(), N, isa);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(M) * double(N) * double(K),
                                                benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

}  // namespace

int main(int argc, char** argv) {
  CTRNN_OPENBLAS(openblas_set_num_threads)(1);
  const std::pair<Part, const char*> parts[] = {{Part::Forward, "forward"}, {Part::TrainStep, "train_step"},
                                                {Part::Steps, "steps"}, {Part::WeightGradients, "weight_gradients"}};
  // small_: only where the CPU has a kernel; small_avx2_: only where that is not already AVX2's.
  using ctrnn::detail::GemmIsa;
  std::vector<std::pair<Kernel, const char*>> used{{Kernel::OpenBlas, "sgemm_"}};
  if (ctrnn::detail::small_gemm_isa_available(GemmIsa::Avx2)) used.push_back({Kernel::Small, "small_"});
  if (ctrnn::detail::small_gemm_isa_available(GemmIsa::Avx512)) used.push_back({Kernel::SmallAvx2, "small_avx2_"});
  for (const auto& [kernel, prefix] : used)
    for (const auto& [part, part_name] : parts)
      for (const Size& s : ctrnn_bench::size_grid())
        benchmark::RegisterBenchmark(ctrnn_bench::bench_name(std::string(prefix) + part_name, ctrnn::Device::Cpu, s).c_str(),
                                     [s, part = part, kernel = kernel](benchmark::State& st) { bm_products(st, s, part, kernel); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
  // The backend's products at (H, B, T) = (64, 32, 100) and (128, 32, 100) with I = O = 4: per
  // step (B x H x H, accumulating), the depth pieces of dW_hid (H x H x T B / 4, A transposed),
  // the input drive and gy W_out^T (T B x H x 4), the readout (T B x 4 x H; also 1-3 outputs, and
  // H = 128, 256), dW_out (H x 4 x T B).
  struct ShapeCase {
    const char* name;
    bool ta;
    int64_t M, N, K;
    float beta;
  };
  const ShapeCase shapes[] = {
      {"step", false, 32, 64, 64, 1.0f},          {"step", false, 32, 128, 128, 1.0f},
      {"step", false, 64, 256, 256, 1.0f},        {"dw_hid_piece", true, 64, 64, 800, 0.0f},
      {"dw_hid_piece", true, 128, 128, 800, 0.0f}, {"dw_hid_whole", true, 64, 64, 3200, 0.0f},
      {"drive", false, 3200, 64, 4, 0.0f},        {"readout", false, 3200, 4, 64, 1.0f},
      {"readout", false, 3200, 1, 64, 1.0f},      {"readout", false, 3200, 2, 64, 1.0f},
      {"readout", false, 3200, 3, 128, 1.0f},     {"readout", false, 6400, 4, 256, 1.0f},
      {"dw_out", true, 64, 4, 3200, 0.0f},        {"dw_in", true, 4, 64, 3200, 0.0f}};
  for (const auto& [kernel, prefix] : used)
    for (const ShapeCase& c : shapes)
      benchmark::RegisterBenchmark((std::string(prefix) + "shape/" + c.name + (c.ta ? "/TN" : "/NN") + "/M:" +
                                    std::to_string(c.M) + "/N:" + std::to_string(c.N) + "/K:" + std::to_string(c.K))
                                       .c_str(),
                                   [c, kernel = kernel](benchmark::State& st) { bm_shape(st, c.ta, c.M, c.N, c.K, c.beta, kernel); })
          ->Unit(benchmark::kMicrosecond);
  return ctrnn_bench::run_main(argc, argv);
}
