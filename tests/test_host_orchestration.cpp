// The CUDA backend's orchestration (host/orchestrated/orchestrated_backend.hpp) and its kernel bodies
// (kernels/*.hpp), run on the host through HostPrims: the same GEMM sequence (operands,
// transposes, leading dimensions, strides, order over time), the same fused per-element bodies,
// reductions and update bodies as on the GPU, with only the primitives swapped for plain loops.
// Compared with the CPU backend (float) and with the independent reference in double. Every
// buffer of the orchestrated backend is NaN-filled whenever it is sized for a call, and every
// host output is NaN-filled before the call, so an element nobody wrote fails the comparison.
#include <gtest/gtest.h>

#include "cuda/gemm_mapping.hpp"
#include "orchestrated/host_primitives.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

using detail::HostPrims;
using detail::Op;
using detail::OrchestratedBackend;
using test::BackendCase;

// Tolerances, relative to the scale (largest magnitude) of the compared array:
// float32 rounds at 6e-8. The orchestration sums in another order than the reference (the input
// drive for all steps first, then the recurrent product, then both biases; double for the
// per-network sums), so each value differs from the reference's by a few roundings per term
// summed: ~(H + I) = 15 terms per step carried through T = 7 leaky steps, some 100 roundings, a
// few 1e-6 of the scale at worst; gradients add a sum over T B = 21 products. Measured worst
// (2026-11-28, every case below): 2e-6 for y, r, loss terms and gradients. 1e-5 (forward) and
// 2e-5 (gradients, loss terms, norms) leave a margin of 5 to 10 yet catch a 1e-4 relative slip in
// the leak carry. Parameters after three optimizer steps move by lr-sized updates whose relative
// error is the gradient's (Adam's m / sqrt(v) is scale-free): far below 1e-5 of their scale.
constexpr test::Tolerances kHostTolerances{1e-5, 2e-5, 1e-5};

// HostPrims with every GEMM sent through CudaPrims's own call path (gemm_mapping.hpp's
// row_major_sgemm: the row-major -> column-major mapping and the argument list, in order) into a
// host statement of cublasSgemmStridedBatched with its signature and argument checks: the
// orchestration's GEMMs, exactly as cuBLAS will receive them, on the host.
struct ColumnMajorHostPrims : HostPrims {
  void gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, int64_t stride_a,
            const float* B, int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
            int64_t batch) {
    detail::row_major_sgemm(detail::host_sgemm_strided_batched, ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb,
                            stride_b, beta, C, ldc, stride_c, batch);
  }
};

class HostOrchestration : public ::testing::TestWithParam<BackendCase> {};

TEST_P(HostOrchestration, MatchesTheCpuBackend) {
  const BackendCase c = GetParam();
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> host(p.config, /*poison=*/true);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  // Learned time constants: SGD only. A learned alpha changes the dynamics of every later step,
  // so an Adam update of a gradient within rounding of 0 (lr sign(g), see compare_backends)
  // spreads to the other parameters: measured one w_hid entry 2.4e-5 apart after five steps
  // (tolerance 1e-5); with SGD every array agrees within 1.5e-6 (2026-12-03).
  test::compare_backends(host, *cpu, c, p, kHostTolerances, /*adam=*/!c.learn_tau);
}

TEST_P(HostOrchestration, MatchesTheCpuBackendThroughTheCublasMapping) {
  const BackendCase c = GetParam();
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<ColumnMajorHostPrims> host(p.config, /*poison=*/true);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  test::compare_backends(host, *cpu, c, p, kHostTolerances, /*adam=*/!c.learn_tau);  // as above
}

// The mapping itself: for every transpose pair, padded leading dimensions, broadcast (stride 0)
// operands and both betas, the column-major call computes exactly (same products, same order)
// what the row-major loops compute.
TEST(CublasMapping, EqualsTheRowMajorLoops) {
  int cases = 0;
  for (Op ta : {Op::N, Op::T})
    for (Op tb : {Op::N, Op::T})
      for (const auto& s : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 7, 5}, {6, 1, 4}, {1, 5, 9}, {17, 9, 2}})
        for (int64_t pad : {0, 2})
          for (int variant = 0; variant < 3; ++variant) {
            const int64_t M = s[0], N = s[1], K = s[2], batch = variant == 0 ? 1 : 3;
            const bool broadcast_a = variant == 1, broadcast_b = variant == 2;
            const float beta = variant == 1 ? 0.5f : 0.0f;
            const int64_t a_rows = ta == Op::N ? M : K, a_cols = ta == Op::N ? K : M;
            const int64_t b_rows = tb == Op::N ? K : N, b_cols = tb == Op::N ? N : K;
            const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = N + pad;
            const int64_t sa = broadcast_a ? 0 : a_rows * lda, sb = broadcast_b ? 0 : b_rows * ldb, sc = M * ldc;
            const auto A = test::random_vector<float>(size_t((broadcast_a ? 1 : batch) * a_rows * lda), 10 + cases);
            const auto B = test::random_vector<float>(size_t((broadcast_b ? 1 : batch) * b_rows * ldb), 20 + cases);
            auto C_rows = test::random_vector<float>(size_t(batch * sc), 30 + cases);
            auto C_cols = C_rows;
            HostPrims().gemm(ta, tb, M, N, K, 0.75f, A.data(), lda, sa, B.data(), ldb, sb, beta, C_rows.data(), ldc, sc,
                             batch);
            ColumnMajorHostPrims().gemm(ta, tb, M, N, K, 0.75f, A.data(), lda, sa, B.data(), ldb, sb, beta,
                                        C_cols.data(), ldc, sc, batch);
            EXPECT_EQ(C_cols, C_rows) << "ta=" << int(ta) << " tb=" << int(tb) << " M=" << M << " N=" << N << " K=" << K
                                      << " pad=" << pad << " variant=" << variant;
            ++cases;
          }
  EXPECT_EQ(cases, 4 * 5 * 2 * 3);
}

// cuBLAS's argument checks, as the mapping meets them: a row stride below the row length would
// be refused by cuBLAS, and is refused by the host statement of it too.
TEST(CublasMapping, TooSmallLeadingDimensionsAreRefused) {
  std::vector<float> A(64, 1.0f), B(64, 1.0f), C(64, 0.0f);
  EXPECT_THROW(ColumnMajorHostPrims().gemm(Op::N, Op::N, 3, 4, 5, 1.0f, A.data(), 4, 0, B.data(), 4, 0, 0.0f, C.data(),
                                           4, 0, 1),
               std::invalid_argument);  // lda 4 < K 5
  EXPECT_THROW(ColumnMajorHostPrims().gemm(Op::N, Op::T, 3, 4, 5, 1.0f, A.data(), 5, 0, B.data(), 4, 0, 0.0f, C.data(),
                                           4, 0, 1),
               std::invalid_argument);  // B^T stored 4 x 5: ldb 4 < 5
  EXPECT_NO_THROW(ColumnMajorHostPrims().gemm(Op::N, Op::T, 3, 4, 5, 1.0f, A.data(), 5, 0, B.data(), 5, 0, 0.0f,
                                              C.data(), 4, 0, 1));
}

std::vector<BackendCase> host_cases() {
  std::vector<BackendCase> cases;
  uint64_t seed = 1;
  for (Activation a : {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh})
    for (int64_t E : {1, 4}) {
      BackendCase plain;
      plain.activation = a, plain.E = E, plain.seed = seed++;
      cases.push_back(plain);
      BackendCase full = plain;  // everything at once
      full.masks = full.noise = full.biases = full.u_per_network = full.regularizers = true;
      full.mask_shape = LossMask::TimeBatchOutput;
      full.seed = seed++;
      cases.push_back(full);
      BackendCase time_batch_mask = plain;
      time_batch_mask.noise = time_batch_mask.biases = true;
      time_batch_mask.mask_shape = LossMask::TimeBatch;
      time_batch_mask.seed = seed++;
      cases.push_back(time_batch_mask);
      if (E == 4) {  // learned time constants, with tau_plasticity, through training
        BackendCase learned = full;
        learned.learn_tau = true, learned.seed = 1000 + seed;  // a seed of its own: the others keep theirs
        cases.push_back(learned);
      }
    }
  // Degenerate sizes: one step, one row, one neuron, one input and output.
  BackendCase tiny;
  tiny.E = 2, tiny.I = 1, tiny.H = 1, tiny.O = 1, tiny.T = 1, tiny.B = 1, tiny.noise = true, tiny.seed = 99;
  cases.push_back(tiny);
  BackendCase one_step = tiny;
  one_step.H = 5, one_step.B = 4, one_step.masks = true, one_step.regularizers = true, one_step.seed = 100;
  cases.push_back(one_step);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, HostOrchestration, ::testing::ValuesIn(host_cases()),
                         [](const auto& info) { return test::case_name(info.param); });

// The orchestrated forward, loss and BPTT against the reference evaluated in double on the same
// (float) parameters, with the noise drawn through RandomStream's documented addressing (the
// orchestration's kernels draw it themselves): this checks the noise addressing too.
class HostOrchestrationVsDouble : public ::testing::TestWithParam<BackendCase> {};

TEST_P(HostOrchestrationVsDouble, ForwardLossAndBackward) {
  const BackendCase c = GetParam();
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> host(p.config, /*poison=*/true);
  test::compare_with_double_reference(host, c, p, kHostTolerances);
}

std::vector<BackendCase> double_cases() {
  std::vector<BackendCase> cases;
  uint64_t seed = 200;
  for (Activation a : {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh})
    for (int64_t E : {1, 4}) {
      BackendCase c;
      c.activation = a, c.E = E, c.seed = seed++;
      c.masks = c.noise = c.biases = c.regularizers = true;
      c.u_per_network = E > 1;
      c.mask_shape = E > 1 ? LossMask::TimeBatch : LossMask::TimeBatchOutput;
      cases.push_back(c);
      c.learn_tau = true, c.seed = 300 + seed;  // dL/dalpha against the reference's, in double
      cases.push_back(c);
    }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, HostOrchestrationVsDouble, ::testing::ValuesIn(double_cases()),
                         [](const auto& info) { return test::case_name(info.param); });

// The calls that need an earlier call refuse cleanly, as the network relies on.
TEST(HostOrchestrationState, RefusesOutOfOrderCalls) {
  BackendCase c;
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> host(p.config, true);
  test::load_problem(host, p);
  EXPECT_THROW(host.backward(p.gy.data(), nullptr), StateError);
  EXPECT_THROW(host.backward_from_loss(), StateError);
  host.forward(test::forward_args(c, p, 0, detail::InitialState::Zero, false));
  EXPECT_THROW(host.backward_from_loss(), StateError);  // no loss of this forward yet
  EXPECT_THROW(host.forward(test::forward_args(c, p, 1, detail::InitialState::Kept, false)), StateError);
}

// One backend object through calls of other shapes (longer, then shorter and wider): buffers
// are resized and re-poisoned, and nothing of the earlier call leaks into the later one.
TEST(HostOrchestrationState, CallsOfChangingShape) {
  BackendCase c;
  c.E = 3, c.noise = true, c.biases = true, c.regularizers = true;
  std::unique_ptr<OrchestratedBackend<HostPrims>> host;
  std::unique_ptr<detail::Backend<float>> cpu;
  for (const auto& [T, B] : std::vector<std::pair<int64_t, int64_t>>{{9, 2}, {2, 5}, {4, 1}}) {
    c.T = T, c.B = B, c.seed = uint64_t(300 + T);
    const test::Problem p = test::make_problem(c);
    if (!host) {  // the same two backend objects for all shapes
      host = std::make_unique<OrchestratedBackend<HostPrims>>(p.config, true);
      cpu = detail::make_cpu_backend<float>(p.config);
    }
    test::compare_backends(*host, *cpu, c, p, kHostTolerances);
  }
}


// ---- Transactions, memory, buffer sizes, launch counts

// HostPrims whose apply() throws at its n-th call: a device fault in the middle of a sequence.
struct FailingHostPrims : HostPrims {
  int64_t fail_at = -1;  // -1: never
  int64_t applies = 0;
  template <class F>
  void apply(int64_t n, const F& body) {
    if (applies++ == fail_at) throw std::runtime_error("injected fault");
    HostPrims::apply(n, body);
  }
};

// HostPrims with a fixed amount of memory left for new buffers.
struct LimitedHostPrims : HostPrims {
  int64_t limit = int64_t(1) << 40;
};
int64_t memory_available(const LimitedHostPrims& p) { return p.limit; }

BackendCase small_case(int64_t T, int64_t B) {
  BackendCase c;
  c.E = 2, c.T = T, c.B = B, c.noise = true;
  return c;
}

// A forward that fails half-way leaves no forward behind (before: the old shape's flag over
// buffers resized for the new one), and the next forward works.
TEST(HostOrchestrationState, AFailedForwardLeavesNoHalfState) {
  const BackendCase c = small_case(6, 3);
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<FailingHostPrims> host(p.config, /*poison=*/false);
  test::load_problem(host, p);
  host.forward(test::forward_args(c, p, 0, detail::InitialState::Zero, false));
  host.primitives().applies = 0;
  host.primitives().fail_at = 3;  // inside the time loop
  BackendCase longer = c;
  longer.T = 9;
  const test::Problem q = test::make_problem(longer);
  EXPECT_THROW(host.forward(test::forward_args(longer, q, 1, detail::InitialState::Zero, false)), std::runtime_error);
  std::vector<float> y(size_t(c.E * 9 * c.B * c.O));
  EXPECT_THROW(host.read_forward(y.data(), nullptr), StateError);
  EXPECT_THROW(host.loss(test::loss_args(longer, q, q.target)), StateError);
  host.primitives().fail_at = -1;
  EXPECT_NO_THROW(host.forward(test::forward_args(longer, q, 2, detail::InitialState::Zero, false)));
  EXPECT_NO_THROW(host.read_forward(y.data(), nullptr));
}

// A training step that fails after its forward changes neither parameters nor optimizer state.
TEST(HostOrchestrationState, AFailedTrainingStepKeepsTheParameters) {
  const BackendCase c = small_case(5, 2);
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<FailingHostPrims> host(p.config, false);
  test::load_problem(host, p);
  OptimizerConfig opt;
  host.train_step(test::forward_args(c, p, 0, detail::InitialState::Zero, false), test::loss_args(c, p, p.target), opt, 1);
  Params<float> before, after;
  OptimizerState<float> m_before, m_after;
  host.get_params(before);
  host.get_optimizer_state(m_before);
  host.primitives().applies = 0;
  host.primitives().fail_at = 2 * c.T + 3;  // past the forward and the loss, in BPTT
  EXPECT_THROW(host.train_step(test::forward_args(c, p, 1, detail::InitialState::Zero, false),
                               test::loss_args(c, p, p.target), opt, 2),
               std::runtime_error);
  host.get_params(after);
  host.get_optimizer_state(m_after);
  EXPECT_EQ(after.w_hid, before.w_hid);
  EXPECT_EQ(m_after.m.w_hid, m_before.m.w_hid);
  EXPECT_THROW(host.backward_from_loss(), StateError);
}

// A training step as the first call of a fresh backend equals the calls in sequence on the CPU
// backend (BPTT uses the step's own dynamics, not those of an earlier forward).
TEST(HostOrchestrationState, AFirstTrainingStepEqualsTheCallsInSequence) {
  BackendCase c = small_case(6, 3);
  c.activation = Activation::Tanh, c.biases = true, c.regularizers = true;
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> host(p.config, true);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  for (detail::Backend<float>* b : {static_cast<detail::Backend<float>*>(&host), cpu.get()}) {
    test::load_problem(*b, p);
  }
  const auto f = test::forward_args(c, p, 0, detail::InitialState::H0, false);
  ASSERT_NE(f.dynamics.activation, Dynamics{}.activation);
  const detail::StepResult a = host.train_step(f, test::loss_args(c, p, p.target), OptimizerConfig{}, 1);
  const detail::StepResult b = cpu->train_step(f, test::loss_args(c, p, p.target), OptimizerConfig{}, 1);
  EXPECT_TRUE(test::close_to(a.terms, b.terms, kHostTolerances.gradient));
  EXPECT_TRUE(test::close_to(a.grad_norm, b.grad_norm, kHostTolerances.gradient));
  Params<float> pa, pb;
  host.get_params(pa);
  cpu->get_params(pb);
  test::expect_params_close(pa, pb, kHostTolerances.parameter, "params after one step");
}

// A network whose loss or update is not finite is frozen by the device-side gate; the others train
// on (the CUDA sequence on the host, and the reference backend).
TEST(HostOrchestrationState, DivergenceIsPerNetwork) {
  test::expect_divergence_is_per_network(
      [](const Config& c) { return std::make_unique<OrchestratedBackend<HostPrims>>(c, true); });
}
TEST(HostOrchestrationPerNetwork, ValuesEqualUniformRuns) {
  test::expect_per_network_values_equal_uniform_runs(
      [](const Config& c) { return std::make_unique<OrchestratedBackend<HostPrims>>(c, true); });
}
TEST(ReferenceBackendPerNetwork, ValuesEqualUniformRuns) {
  test::expect_per_network_values_equal_uniform_runs([](const Config& c) { return detail::make_cpu_backend<float>(c); });
}
// Network k of an ensemble equals a one-network run drawing as network k (first_network = k):
// the CUDA sequence on the host, the persistent kernels' host emulator, and the reference.
TEST(HostOrchestrationNetworkAlone, EqualsItsNetworkInTheEnsemble) {
  test::expect_network_k_equals_its_one_network_run(
      [](const Config& c) { return std::make_unique<OrchestratedBackend<HostPrims>>(c, true); });
}
TEST(PersistentEmulatedNetworkAlone, EqualsItsNetworkInTheEnsemble) {
  test::expect_network_k_equals_its_one_network_run([](const Config& c) {
    auto b = std::make_unique<OrchestratedBackend<HostPrims>>(c, true);
    detail::RecurrenceOptions o;
    o.path = detail::RecurrencePath::PersistentCta;
    b->set_recurrence(o);
    return b;
  });
}
TEST(ReferenceBackendNetworkAlone, EqualsItsNetworkInTheEnsemble) {
  test::expect_network_k_equals_its_one_network_run([](const Config& c) { return detail::make_cpu_backend<float>(c); });
}
TEST(ReferenceBackendState, DivergenceIsPerNetwork) {
  test::expect_divergence_is_per_network([](const Config& c) { return detail::make_cpu_backend<float>(c); });
}

// A call that would not fit is refused before it changes anything, naming the parameter, the
// bytes needed and the bytes available.
TEST(HostOrchestrationMemory, ACallThatDoesNotFitIsRefused) {
  const BackendCase c = small_case(4, 2);
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<LimitedHostPrims> host(p.config, false);
  test::load_problem(host, p);
  host.forward(test::forward_args(c, p, 0, detail::InitialState::Zero, false));
  std::vector<float> y_before(size_t(c.E * c.T * c.B * c.O)), y_after(y_before.size());
  host.read_forward(y_before.data(), nullptr);
  const int64_t held = host.buffer_bytes();

  host.primitives().limit = 100000;
  detail::ForwardArgs<float> huge = test::forward_args(c, p, 1, detail::InitialState::Zero, false);
  huge.steps = 1000, huge.batch = 1000;  // u is never read: the call is refused first
  try {
    host.forward(huge);
    ADD_FAILURE() << "a forward needing gigabytes was accepted with 100000 bytes available";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.parameter(), "inputs");
    EXPECT_NE(m.find("(T, B) = (1000, 1000)"), std::string::npos) << m;
    EXPECT_NE(m.find("100000 bytes available"), std::string::npos) << m;
    // v, r, work: E (T+1) B H, E (T+1) B H, E T B H floats, at least
    const int64_t at_least = 4 * c.E * c.H * 1000 * (1001 + 1001 + 1000);
    const size_t needs = m.find("needs ");
    ASSERT_NE(needs, std::string::npos) << m;
    EXPECT_GE(std::stoll(m.substr(needs + 6)), at_least) << m;
  }
  // Refused before anything changed: the last forward is still there, no buffer grew.
  EXPECT_EQ(host.buffer_bytes(), held);
  host.read_forward(y_after.data(), nullptr);
  EXPECT_EQ(y_after, y_before);
  // Element counts beyond 64 bits are refused too.
  huge.steps = int64_t(1) << 40, huge.batch = int64_t(1) << 40;
  EXPECT_THROW(host.forward(huge), InvalidArgument);
}

// The loss allocates dL/dr (E T B H floats) only when a firing-rate term is on.
TEST(HostOrchestrationMemory, TheLossAllocatesOnlyWhatItsTermsNeed) {
  BackendCase c = small_case(7, 3);
  c.regularizers = true;  // every lambda on
  const test::Problem p = test::make_problem(c);
  auto bytes_after_a_step = [&](bool rate_terms) {
    OrchestratedBackend<HostPrims> host(p.config, false);
    test::load_problem(host, p);
    detail::LossArgs<float> l = test::loss_args(c, p, p.target);
    if (!rate_terms) l.weights[kLossFr] = l.weights[kLossFrSd] = l.weights[kLossFrCv] = 0;
    host.train_step(test::forward_args(c, p, 0, detail::InitialState::Zero, false), l, OptimizerConfig{}, 1);
    return host.buffer_bytes();
  };
  const int64_t rates = c.E * c.T * c.B * c.H * int64_t(sizeof(float));
  EXPECT_GE(bytes_after_a_step(true) - bytes_after_a_step(false), rates);
}

// Launches per training step (RESULTS.md): the whole step is one graph section with one upload
// and one download around it; inside it, 4T + 26 kernels and cuBLAS calls for a network without
// learned biases, h0, masks or regularizers (before: 4T + 38 launches one by one, 2 uploads and
// 2 blocking downloads; 4T + 24 before the per-network divergence check: its reduction and gate;
// 4T + 27 while the MSE denominator without a mask was a reduction, now a fill).
TEST(HostOrchestrationLaunches, ATrainingStepIsOneGraph) {
  for (int64_t T : {5, 9}) {
    BackendCase c;
    c.E = 2, c.T = T, c.B = 3;  // no biases, masks, noise or regularizers
    const test::Problem p = test::make_problem(c);
    OrchestratedBackend<HostPrims> host(p.config, false);
    test::load_problem(host, p);
    detail::LossArgs<float> l = test::loss_args(c, p, p.target);
    for (int64_t step = 1; step <= 2; ++step) {
      const detail::LaunchCounts before = host.launch_counts();
      host.train_step(test::forward_args(c, p, step, detail::InitialState::Zero, false), l, OptimizerConfig{}, step);
      const detail::LaunchCounts& after = host.launch_counts();
      EXPECT_EQ(after.graphs - before.graphs, 1);
      EXPECT_EQ(after.outside_graphs - before.outside_graphs, 0);
      EXPECT_EQ(after.uploads - before.uploads, 1);
      EXPECT_EQ(after.downloads - before.downloads, 1);
      EXPECT_EQ(after.in_graphs - before.in_graphs, 4 * T + 26) << "T = " << T;
    }
  }
}

// Arguments marked as device memory (Memory::Device: in the primitives' own memory, which for
// HostPrims is the host) take the device-to-device path: copied into the input arena and out of
// the results by copy(), with only the per-call scalars uploaded. Same results, bit for bit, as
// the same arguments given as host memory; and no upload or download of the data itself.
TEST(HostOrchestrationDeviceArguments, EqualHostArgumentsWithoutTransfers) {
  BackendCase c = small_case(6, 3);
  c.E = 2, c.activation = Activation::Tanh, c.biases = true, c.regularizers = true, c.noise = true;
  c.mask_shape = LossMask::TimeBatchOutput;
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> host(p.config, true), device(p.config, true);
  for (auto* b : {&host, &device}) {
    test::load_problem(*b, p);
  }
  const auto on_device = [](auto located) {
    located.memory = detail::Memory::Device;
    return located;
  };
  const int64_t E = c.E, T = c.T, B = c.B, H = c.H, O = c.O;
  // Forward, outputs read into device memory
  auto f = test::forward_args(c, p, 2, detail::InitialState::H0, false);
  host.forward(f);
  f.u = on_device(f.u);
  detail::LaunchCounts before = device.launch_counts();
  device.forward(f);
  EXPECT_EQ(device.launch_counts().uploads - before.uploads, 1);  // the scalars alone
  std::vector<float> y_host = test::poisoned(E * T * B * O), r_host = test::poisoned(E * T * B * H);
  std::vector<float> y_dev = test::poisoned(E * T * B * O), r_dev = test::poisoned(E * T * B * H);
  host.read_forward(y_host.data(), r_host.data());
  before = device.launch_counts();
  device.read_forward(on_device(detail::Located<float>(y_dev.data())), on_device(detail::Located<float>(r_dev.data())));
  EXPECT_EQ(device.launch_counts().downloads - before.downloads, 0);
  EXPECT_EQ(y_dev, y_host);
  EXPECT_EQ(r_dev, r_host);
  // BPTT from device dL/dy and dL/dr, gradients read into device memory
  host.backward(p.gy.data(), p.gr.data());
  before = device.launch_counts();
  device.backward(on_device(detail::Located<const float>(p.gy.data())), on_device(detail::Located<const float>(p.gr.data())));
  EXPECT_EQ(device.launch_counts().uploads - before.uploads, 0);
  Gradients<float> g_host;
  host.read_gradients(g_host);
  const auto want = g_host.arrays();
  for (int k = 0; k < kNumParamArrays; ++k) {
    std::vector<float> g = test::poisoned(int64_t(want[k]->size()));
    device.read_gradient(k, on_device(detail::Located<float>(g.data())));
    EXPECT_EQ(g, *want[k]) << kParamNames[k];
  }
  // Training steps with device inputs, targets and masks; then the loss alone
  for (int64_t step = 1; step <= 2; ++step) {
    auto fs = test::forward_args(c, p, 2 + step, detail::InitialState::H0, false);
    auto l = test::loss_args(c, p, p.target);
    const detail::StepResult a = host.train_step(fs, l, OptimizerConfig{}, step);
    fs.u = on_device(fs.u), l.target = on_device(l.target), l.mask = on_device(l.mask);
    before = device.launch_counts();
    const detail::StepResult b = device.train_step(fs, l, OptimizerConfig{}, step);
    EXPECT_EQ(device.launch_counts().uploads - before.uploads, 1);  // the scalars alone
    EXPECT_EQ(a.terms, b.terms);
    EXPECT_EQ(a.grad_norm, b.grad_norm);
    EXPECT_EQ(host.loss(test::loss_args(c, p, p.target)), device.loss(l));
  }
  Params<float> pa, pb;
  host.get_params(pa);
  device.get_params(pb);
  for (int k = 0; k < kNumParamArrays; ++k) EXPECT_EQ(*pa.arrays()[k], *pb.arrays()[k]) << kParamNames[k];
}

// A loss of a forward whose u is in device memory, with its target on the host (Trainer::evaluate
// with a CUDA u and a numpy target, then backward): the loss's upload carries the target alone and
// leaves the u the forward copied into the arena as it is, so that BPTT's dW_in and dL/du read it.
// (The upload once spanned the arena from the coefficients to the target's end, and wrote u's
// bytes back from a host image that never held this u.)
TEST(HostOrchestrationDeviceArguments, LossWithHostTargetKeepsDeviceInputs) {
  BackendCase c = small_case(5, 3);
  c.E = 2, c.activation = Activation::Tanh, c.biases = true;
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> host(p.config, true), mixed(p.config, true);
  for (auto* b : {&host, &mixed}) test::load_problem(*b, p);
  const auto f = test::forward_args(c, p, 1, detail::InitialState::H0, false);
  auto f_dev = f;
  f_dev.u.memory = detail::Memory::Device;
  const auto l = test::loss_args(c, p, p.target);
  host.forward(f);
  mixed.forward(f_dev);
  EXPECT_EQ(host.loss(l), mixed.loss(l));  // the target from the host in both
  const int64_t n_u = int64_t(p.u.size());
  std::vector<float> du_host = test::poisoned(n_u), du_mixed = test::poisoned(n_u);
  host.backward(p.gy.data(), p.gr.data(), du_host.data());
  mixed.backward(p.gy.data(), p.gr.data(), du_mixed.data());
  EXPECT_EQ(du_host, du_mixed);
  Gradients<float> g_host, g_mixed;
  host.read_gradients(g_host);
  mixed.read_gradients(g_mixed);
  for (int k = 0; k < kNumParamArrays; ++k) EXPECT_EQ(*g_host.arrays()[k], *g_mixed.arrays()[k]) << kParamNames[k];
}

}  // namespace
}  // namespace ctrnn
