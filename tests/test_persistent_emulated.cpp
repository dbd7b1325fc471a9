// The persistent recurrence kernels (kernels/persistent_*.hpp) run by the host emulator
// (host/orchestrated/cluster_emulator.hpp) through OrchestratedBackend<HostPrims> with the path
// forced: the same phase code the device runs, with every cluster size and batch tile the
// dispatcher can choose, H not a multiple of the cluster, partial batch tiles, B = 1, T = 1,
// E > 1, every activation, noise, every kind of mask. Compared with the independent reference in
// double (the oracle), with the CPU backend through a whole training sequence, and with the
// sequence path of the same backend. Also: the result does not depend on the order in which the
// threads of a phase run (no thread reads what another writes in the same phase), and the
// dispatcher's table (docs/gpu-dispatch.md). CTest label `emulated`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "orchestrated/cluster_emulator.hpp"
#include "orchestrated/host_primitives.hpp"
#include "orchestrated/orchestrated_backend.hpp"
#include "orchestrated/recurrence_plan.hpp"
#include "test_host_backend_compare.hpp"

namespace ctrnn {
namespace {

using detail::HostPrims;
using detail::OrchestratedBackend;
using detail::RecurrenceOptions;
using detail::RecurrencePath;
using test::BackendCase;

// As test_host_orchestration's kHostTolerances (the same float arithmetic as the sequence: the
// per-element lines of LeakyStepForward/Backward, on a recurrent product summed in k order or in
// parts; see EqualsTheSequence).
constexpr test::Tolerances kEmulatedTolerances{1e-5, 2e-5, 1e-5};

struct PersistentCase {
  BackendCase c;
  RecurrenceOptions o;
};

std::string name(const PersistentCase& p) {
  return test::case_name(p.c) + "_" + to_string(p.o.path) + "_C" + std::to_string(p.o.cluster_size) + "_tile" +
         std::to_string(p.o.batch_tile) + "_thr" + std::to_string(p.o.threads);
}
void PrintTo(const PersistentCase& p, std::ostream* os) { *os << name(p); }

std::unique_ptr<OrchestratedBackend<HostPrims>> emulated(const test::Problem& p, const RecurrenceOptions& o) {
  auto b = std::make_unique<OrchestratedBackend<HostPrims>>(p.config, /*poison=*/true);
  b->set_recurrence(o);
  return b;
}

class PersistentEmulated : public ::testing::TestWithParam<PersistentCase> {};

TEST_P(PersistentEmulated, MatchesTheDoubleReference) {
  const PersistentCase pc = GetParam();
  const test::Problem p = test::make_problem(pc.c);
  auto backend = emulated(p, pc.o);
  test::compare_with_double_reference(*backend, pc.c, p, kEmulatedTolerances);
  EXPECT_EQ(backend->recurrence_plan().path, pc.o.path) << backend->recurrence_plan().reason;
}

TEST_P(PersistentEmulated, MatchesTheCpuBackendThroughTraining) {
  const PersistentCase pc = GetParam();
  const test::Problem p = test::make_problem(pc.c);
  auto backend = emulated(p, pc.o);
  auto cpu = detail::make_cpu_backend<float>(p.config);
  // SGD only: with Adam, one gradient entry within rounding of 0 makes a parameter differ by up
  // to 2 lr between any two correct backends (see compare_backends); for the seeds below the
  // sequence path of this backend differs from the CPU backend's there exactly as the persistent
  // path does, which EqualsTheSequenceBitForBit pins down.
  test::compare_backends(*backend, *cpu, pc.c, p, kEmulatedTolerances, /*adam=*/false);
  EXPECT_EQ(backend->recurrence_plan().path, pc.o.path);
}

// Against the sequence path of the same host backend. With the recurrent sum in one part the
// emulated kernels compute the same products summed in the same order and the same per-element
// lines, so the results agree to the last bit (any index slip, a wrong slice or a stale exchange
// buffer shows as a difference, however small). Split into parts (H >= 16), the sum is
// reordered: then a few roundings per step, measured worst between 1e-7 and 3e-7 of the scale
// (2026-11-28), hence 2e-6. The bias and h0 gradients, summed by the backward kernel over t
// first and then over rows and tiles (the sequence: one column sum over all rows), are the same
// terms in another order: a few roundings of the sum's scale, hence 2e-6 for them on every path.
TEST_P(PersistentEmulated, EqualsTheSequence) {
  const PersistentCase pc = GetParam();
  const test::Problem p = test::make_problem(pc.c);
  const BackendCase& c = pc.c;
  RecurrenceOptions sequence;
  sequence.path = RecurrencePath::Sequence;
  std::vector<float> y[2], r[2];
  Gradients<float> g[2];
  int64_t parts = 0;
  for (int k = 0; k < 2; ++k) {
    auto b = emulated(p, k == 0 ? sequence : pc.o);
    test::load_problem(*b, p);
    b->forward(test::forward_args(c, p, 7, c.biases ? detail::InitialState::H0 : detail::InitialState::Zero, false));
    y[k] = test::poisoned(c.E * c.T * c.B * c.O), r[k] = test::poisoned(c.E * c.T * c.B * c.H);
    b->read_forward(y[k].data(), r[k].data());
    b->backward(p.gy.data(), p.gr.data());
    b->read_gradients(g[k]);
    parts = b->recurrence_plan().geometry.parts;
  }
  const auto g0 = g[0].arrays(), g1 = g[1].arrays();
  const auto summed_in_kernel = [](size_t k) { return k == 3 || k == 4 || k == 6; };  // b_in, b_hid, h0
  if (parts == 1) {
    EXPECT_EQ(y[1], y[0]);
    EXPECT_EQ(r[1], r[0]);
    for (size_t k = 0; k < g0.size(); ++k)
      if (summed_in_kernel(k))
        EXPECT_TRUE(test::close_to(*g1[k], *g0[k], 2e-6)) << kParamNames[k];
      else
        EXPECT_EQ(*g1[k], *g0[k]) << kParamNames[k];
  } else {
    EXPECT_TRUE(test::close_to(y[1], y[0], 2e-6)) << "y";
    EXPECT_TRUE(test::close_to(r[1], r[0], 2e-6)) << "r";
    for (size_t k = 0; k < g0.size(); ++k) EXPECT_TRUE(test::close_to(*g1[k], *g0[k], 2e-6)) << kParamNames[k];
  }
}

std::vector<PersistentCase> persistent_cases() {
  std::vector<PersistentCase> cases;
  uint64_t seed = 500;
  const auto add = [&](BackendCase c, RecurrencePath path, int cluster, int64_t tile, int threads) {
    c.seed = seed++;
    RecurrenceOptions o;
    o.path = path, o.cluster_size = cluster, o.batch_tile = tile, o.threads = threads;
    cases.push_back({c, o});
  };
  const RecurrencePath cta = RecurrencePath::PersistentCta, cluster = RecurrencePath::PersistentCluster;
  // Every activation with everything on, on one CTA and on a cluster whose last CTA holds fewer
  // columns (H = 13 over 4 CTAs: 4, 4, 4, 1), partial batch tiles (B = 5 in tiles of 2).
  for (Activation a : {Activation::ReLU, Activation::Tanh, Activation::Sigmoid, Activation::ReTanh}) {
    BackendCase full;
    full.activation = a, full.E = 2, full.H = 13, full.B = 5, full.T = 4;
    full.masks = full.noise = full.biases = full.u_per_network = full.regularizers = true;
    full.mask_shape = LossMask::TimeBatchOutput;
    add(full, cta, 0, 0, 64);
    add(full, cluster, 4, 2, 32);
    BackendCase time_batch = full;
    time_batch.masks = false, time_batch.u_per_network = false, time_batch.mask_shape = LossMask::TimeBatch;
    add(time_batch, cluster, 2, 0, 0);
    BackendCase learned = full;  // the alpha gradient from the persistent kernels' dv_ and v_
    learned.learn_tau = true;
    add(learned, cta, 0, 0, 64);
    add(learned, cluster, 4, 2, 32);
  }
  // Every cluster size the dispatcher can choose (and 3, 5: forced sizes need not be powers of
  // two), slices of 1 column and CTAs with no column at all (H = 5 over 8 and 16 CTAs).
  BackendCase c;
  c.activation = Activation::Tanh, c.E = 3, c.H = 19, c.B = 6, c.T = 3, c.noise = c.biases = true;
  for (int size : {2, 3, 4, 5, 8, 16}) add(c, cluster, size, 4, 32);
  BackendCase narrow = c;
  narrow.H = 5;
  add(narrow, cluster, 8, 0, 0);
  add(narrow, cluster, 16, 3, 32);
  // Tiles of more than kTileRows rows: a thread's rows g, g + G, g + 2G, ... with G = 2 and 3, the
  // last ones clamped (11 rows in a tile: G = 3, rows 2, 5, 8 and a clamped 11); the recurrent sum
  // in several parts (H = 48) and in one, looping over more tiles than threads (32 threads).
  BackendCase rows = c;
  rows.E = 2, rows.H = 21, rows.B = 11, rows.activation = Activation::ReTanh, rows.masks = true;
  add(rows, cluster, 3, 11, 64);
  add(rows, cta, 0, 7, 32);
  rows.H = 48, rows.activation = Activation::Sigmoid;
  add(rows, cluster, 2, 11, 256);
  add(rows, cluster, 4, 8, 32);
  // Degenerate sizes: B = 1, T = 1, H = 1, I = O = 1; without learned biases and h0 (the backward
  // kernel then has no closing phases) and with them.
  BackendCase tiny;
  tiny.E = 2, tiny.I = 1, tiny.H = 1, tiny.O = 1, tiny.T = 1, tiny.B = 1, tiny.noise = true;
  add(tiny, cta, 0, 0, 0);
  tiny.biases = true;
  add(tiny, cluster, 2, 0, 0);
  BackendCase one_row = c;
  one_row.B = 1, one_row.T = 6, one_row.masks = true, one_row.regularizers = true;
  add(one_row, cta, 0, 0, 32);
  add(one_row, cluster, 2, 0, 0);
  BackendCase one_step = c;
  one_step.T = 1, one_step.B = 9, one_step.activation = Activation::ReLU;
  add(one_step, cluster, 4, 4, 64);
  // The dispatcher's own choice of tile and threads (the tile spreads B over the SMs).
  BackendCase wide = c;
  wide.H = 40, wide.B = 12, wide.E = 1, wide.T = 5, wide.activation = Activation::Sigmoid, wide.masks = true;
  add(wide, cta, 0, 0, 0);
  add(wide, cluster, 0, 0, 0);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, PersistentEmulated, ::testing::ValuesIn(persistent_cases()),
                         [](const auto& info) { return name(info.param); });

// A forced persistent path runs (the plan says so) and a path that cannot run is refused with a
// message naming the option, before the backend changes anything.
TEST(PersistentEmulatedOptions, ForcedPathsRunOrAreRefused) {
  BackendCase c;
  c.H = 12;
  const test::Problem p = test::make_problem(c);
  OrchestratedBackend<HostPrims> b(p.config, true);
  test::load_problem(b, p);
  b.forward(test::forward_args(c, p, 0, detail::InitialState::Zero, false));
  EXPECT_EQ(b.recurrence_plan().path, RecurrencePath::Sequence);  // Auto on the host: the sequence
  RecurrenceOptions o;
  o.path = RecurrencePath::PersistentCta, o.cluster_size = 4;
  b.set_recurrence(o);
  test::expect_refused([&] { b.forward(test::forward_args(c, p, 1, detail::InitialState::Zero, false)); },
                       "recurrence cluster size");
  EXPECT_EQ(b.recurrence_plan().path, RecurrencePath::Sequence);  // the last forward's, unchanged
  o.path = RecurrencePath::PersistentCluster, o.cluster_size = 17;
  b.set_recurrence(o);
  test::expect_refused([&] { b.forward(test::forward_args(c, p, 1, detail::InitialState::Zero, false)); },
                       "recurrence cluster size");
  o.cluster_size = 2;
  b.set_recurrence(o);
  b.forward(test::forward_args(c, p, 1, detail::InitialState::Zero, false));
  EXPECT_EQ(b.recurrence_plan().path, RecurrencePath::PersistentCluster);
  EXPECT_EQ(b.recurrence_plan().geometry.cluster, 2);
}

// The bias and h0 gradients of the dv a backward kernel wrote (E, T+1, B, H), summed in double:
// sum_{t >= 1, b} alpha * dv_t (alpha (E, H)) and sum_b dv_0, each (E, H).
std::pair<std::vector<float>, std::vector<float>> reference_sums(const std::vector<float>& dv, int64_t E, int64_t T,
                                                                 int64_t B, int64_t H, const std::vector<float>& alpha) {
  const int64_t BH = B * H, state = (T + 1) * BH;
  std::vector<float> bias_sums(size_t(E * H)), h0_sums(size_t(E * H));
  for (int64_t e = 0; e < E; ++e)
    for (int64_t j = 0; j < H; ++j) {
      double bias = 0, h0 = 0;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = 1; t <= T; ++t) bias += double(alpha[size_t(e * H + j)]) * dv[size_t(e * state + t * BH + b * H + j)];
        h0 += dv[size_t(e * state + b * H + j)];
      }
      bias_sums[size_t(e * H + j)] = float(bias), h0_sums[size_t(e * H + j)] = float(h0);
    }
  return {bias_sums, h0_sums};
}

// Every kind of schedule of the emulator (cluster_emulator.hpp): each thread order with each
// interleaving of the clusters, the random ones with several seeds, and a stall of cluster 1 in
// every phase of a kernel of `phases` phases.
std::vector<detail::EmulatorSchedule> every_schedule(int64_t phases) {
  using detail::ClusterInterleaving;
  std::vector<detail::EmulatorSchedule> all;
  for (auto order : {detail::ThreadOrder::Ascending, detail::ThreadOrder::Descending, detail::ThreadOrder::Shuffled}) {
    for (auto clusters :
         {ClusterInterleaving::OneAfterAnother, ClusterInterleaving::Lockstep, ClusterInterleaving::Random})
      for (uint64_t seed : {42u, 7u})
        if (seed == 42u || order == detail::ThreadOrder::Shuffled || clusters == ClusterInterleaving::Random)
          all.push_back({order, clusters, seed, 0});
    for (int64_t phase = 0; phase < phases; ++phase) all.push_back({order, ClusterInterleaving::Preempted, 1, phase});
  }
  return all;
}

std::string describe(const detail::EmulatorSchedule& s) {
  const char* orders[] = {"ascending", "descending", "shuffled"};
  const char* clusters[] = {"one after another", "lockstep", "random", "preempted"};
  return std::string(orders[int(s.threads)]) + " threads, clusters " + clusters[int(s.clusters)] + ", seed " +
         std::to_string(s.seed) + (s.clusters == detail::ClusterInterleaving::Preempted
                                       ? ", stalled in phase " + std::to_string(s.pause_phase)
                                       : std::string());
}

// The exchange protocol under every schedule: each phase reads only what earlier phases wrote,
// so every order of the threads, CTAs and clusters gives the same bits. A kernel that read a
// buffer being written in the same phase (one buffer instead of two, a missing barrier) would
// give different results in different orders. The schedules also change which batch tile of a
// network arrives last, and so which one adds up the tiles' bias and h0 sums: the sums, added in
// tile order, must not change either, and every arrival count must be back at 0.
TEST(PersistentEmulatedOrder, TheScheduleDoesNotChangeTheResult) {
  const int64_t E = 2, T = 5, B = 7, H = 21, BH = B * H, state = (T + 1) * BH;
  const auto w = test::random_vector<float>(size_t(E * H * H), 1, -0.4, 0.4);
  const auto bias = test::random_vector<float>(size_t(E * H), 2);
  const auto drive = test::random_vector<float>(size_t(E * T * BH), 3);
  const auto gr = test::random_vector<float>(size_t(E * T * BH), 4);
  std::vector<float> v = test::random_vector<float>(size_t(E * state), 5), r = v, dv(size_t(E * state));
  const auto alpha = test::random_vector<float>(size_t(E * H), 6, 0.05, 1.0);  // per network and neuron
  const std::vector<float> sigma_pre{0.3f, 0.0f}, sigma_post{0.1f, 0.2f};        // per network
  std::vector<float> dr(drive.size());  // the backward's, replaced by alpha * dv
  for (int cluster : {1, 3, 8}) {
    const auto g = kernels::PersistentGeometry::make(H, B, cluster, 3, 32);
    const uint32_t call = 1;
    kernels::PersistentForward f{{}, w.data(), bias.data(), bias.data(), drive.data(), v.data(), r.data(), T,
                                 alpha.data(), sigma_pre.data(), sigma_post.data(), Activation::Tanh, 9, &call, g};
    // Forward: r and v of steps >= 1 (slice 0 is the input and stays)
    std::vector<float> v0 = v;
    std::vector<float> first_forward;
    for (const auto& schedule : every_schedule(f.phases())) {
      v = v0;
      std::copy(v0.begin(), v0.end(), r.begin());
      detail::emulate_clusters(f, g.clusters_total(E), schedule);
      std::vector<float> out = r;
      out.insert(out.end(), v.begin(), v.end());
      if (first_forward.empty()) first_forward = out;
      EXPECT_EQ(out, first_forward) << "cluster " << cluster << ", " << describe(schedule);
    }
    // Backward: dv, then db_hid, db_in and dh0
    std::vector<float> sums(size_t(3 * E * H)), tile_sums(size_t(E * g.tiles * 2 * H));
    std::vector<uint32_t> arrivals(size_t(E * cluster), 0);
    kernels::PersistentBackward bw{{}, w.data(), dr.data(), gr.data(), v.data(), dv.data(), sums.data(),
                                   sums.data() + E * H, sums.data() + 2 * E * H, tile_sums.data(), arrivals.data(),
                                   T, alpha.data(), Activation::Sigmoid, g};
    std::vector<float> first_backward;
    for (const auto& schedule : every_schedule(bw.phases())) {
      std::copy(drive.begin(), drive.end(), dr.begin());
      std::fill(dv.begin(), dv.end(), 0.0f);
      std::fill(sums.begin(), sums.end(), 0.0f);
      std::fill(tile_sums.begin(), tile_sums.end(), std::numeric_limits<float>::quiet_NaN());
      detail::emulate_clusters(bw, g.clusters_total(E), schedule);
      std::vector<float> out = dv;
      out.insert(out.end(), sums.begin(), sums.end());
      out.insert(out.end(), dr.begin(), dr.end());
      if (first_backward.empty()) first_backward = out;
      EXPECT_EQ(out, first_backward) << "cluster " << cluster << ", " << describe(schedule);
      EXPECT_EQ(arrivals, std::vector<uint32_t>(arrivals.size(), 0))
          << "cluster " << cluster << ", " << describe(schedule);
    }
  }
}

// The backward kernel with its last-arrival protocol broken: the FIRST tile of a network to
// arrive adds up the tiles' bias and h0 sums (the comparison with tiles - 1 made one with 0; all
// else, the reset of the count by the adding tile included, as the kernel has it). On the device
// the first tile reads sums other tiles have not stored yet. Emulated with the clusters one after
// another, every tile finds the count reset to 0 by the one before it and adds; the last one to
// do so sees every tile's sums, so the results are right and the mutant passes: the emulator must
// interleave the clusters to see it fail (issue 24, defect 6).
struct FirstArrivalAddsTheSums {
  kernels::PersistentBackward kernel;
  kernels::PersistentGeometry geometry = kernel.geometry;

  int64_t phases() const { return kernel.phases(); }
  int64_t shared_floats() const { return kernel.shared_floats(); }
  kernels::Barrier barrier_after(int64_t phase) const { return kernel.barrier_after(phase); }
  template <class Cta>
  void run_phase(int64_t phase, int64_t cluster_index, const Cta& cta, int thread) const {
    // closing phase 1: thread 0 counts the tile's arrival and sets the "adds the sums" flag
    const bool arrival = phase == 2 * kernel.steps() + 2 && thread == 0;
    const auto tile = kernels::PersistentTile::of(geometry, cluster_index, cta.rank());
    uint32_t* count = kernel.arrivals + tile.e * geometry.cluster + cta.rank();
    const uint32_t before = arrival ? *count : 0;
    kernel.run_phase(phase, cluster_index, cta, thread);
    if (arrival) cta.local()[geometry.bias()] = before == 0 ? 1.0f : 0.0f;  // first, not last
  }
};

// The bias and h0 sums of the kernel (or the mutant) against the reference sums of the dv it
// wrote, under `schedule`; false when any differs or an arrival count is left non-zero.
template <class Kernel>
bool sums_right(const Kernel& k, int64_t clusters, const detail::EmulatorSchedule& schedule,
                const std::vector<float>& dv, std::vector<float>& tile_sums, std::vector<float>& db_hid,
                std::vector<float>& dh0, const std::vector<uint32_t>& arrivals, int64_t E, int64_t T, int64_t B,
                int64_t H, std::vector<float>& dr, const std::vector<float>& dr_given) {
  std::copy(dr_given.begin(), dr_given.end(), dr.begin());  // the kernel replaces it with alpha * dv
  std::fill(tile_sums.begin(), tile_sums.end(), std::numeric_limits<float>::quiet_NaN());  // no sums of a launch before
  std::fill(db_hid.begin(), db_hid.end(), 0.0f);
  std::fill(dh0.begin(), dh0.end(), 0.0f);
  detail::emulate_clusters(k, clusters, schedule);
  // float sums of T B = 40 terms against double: 1e-5 of the scale is far below the effect of a
  // tile's missing sum (a whole tile's share, or NaN)
  const auto [bias, h0] = reference_sums(dv, E, T, B, H, std::vector<float>(size_t(E * H), 0.3f));
  if (!test::close_to(db_hid, bias, 1e-5) || !test::close_to(dh0, h0, 1e-5)) return false;
  return std::all_of(arrivals.begin(), arrivals.end(), [](uint32_t a) { return a == 0; });
}

TEST(PersistentEmulatedOrder, TheInterleavedSchedulesCatchAFirstArrivalThatAddsTheSums) {
  const int64_t E = 2, T = 4, B = 10, H = 9, state = (T + 1) * B * H;
  const auto w = test::random_vector<float>(size_t(E * H * H), 31, -0.4, 0.4);
  const auto dr_given = test::random_vector<float>(size_t(E * T * B * H), 32);
  std::vector<float> dr = dr_given;  // replaced by alpha * dv in each run
  const auto v = test::random_vector<float>(size_t(E * state), 33);
  const std::vector<float> alpha(size_t(E * H), 0.3f);
  std::vector<float> dv(size_t(E * state)), db_hid(size_t(E * H)), dh0(size_t(E * H));
  for (int cluster : {1, 3}) {
    const auto g = kernels::PersistentGeometry::make(H, B, cluster, 2, 32);  // 5 tiles per network
    std::vector<float> tile_sums(size_t(E * g.tiles * 2 * H));
    std::vector<uint32_t> arrivals(size_t(E * cluster), 0);
    const kernels::PersistentBackward right{{}, w.data(), dr.data(), nullptr, v.data(), dv.data(), db_hid.data(),
                                            nullptr, dh0.data(), tile_sums.data(), arrivals.data(), T, alpha.data(),
                                            Activation::Tanh, g};
    const FirstArrivalAddsTheSums mutant{right};
    const int64_t adding_phase = 1 + 2 * right.steps() + 2;  // closing phase 2
    ASSERT_EQ(right.phases(), adding_phase + 1);
    for (const auto& schedule : every_schedule(right.phases())) {
      const std::string where = "cluster " + std::to_string(cluster) + ", " + describe(schedule);
      EXPECT_TRUE(sums_right(right, g.clusters_total(E), schedule, dv, tile_sums, db_hid, dh0, arrivals, E, T, B, H, dr, dr_given))
          << where;
      std::fill(arrivals.begin(), arrivals.end(), 0u);
      const bool mutant_right =
          sums_right(mutant, g.clusters_total(E), schedule, dv, tile_sums, db_hid, dh0, arrivals, E, T, B, H, dr, dr_given);
      std::fill(arrivals.begin(), arrivals.end(), 0u);
      if (schedule.clusters == detail::ClusterInterleaving::OneAfterAnother)
        EXPECT_TRUE(mutant_right) << "one cluster after another cannot see the mutant (why the emulator interleaves): "
                                  << where;
      // Stalled in the adding phase before its last thread, thread 0 (which resets the count)
      // with descending threads: the mutant's first tile has added stale sums.
      if (schedule.clusters == detail::ClusterInterleaving::Preempted && schedule.pause_phase == adding_phase &&
          schedule.threads == detail::ThreadOrder::Descending)
        EXPECT_FALSE(mutant_right) << "the mutant passed " << where;
    }
  }
}

// The backward kernel's bias and h0 gradients against the sums, in double, of the dv it wrote:
// db_hid = db_in = sum_{t >= 1, b} alpha * dv_t (alpha per network and neuron) and dh0 = sum_b dv_0,
// for one batch tile per network
// (written at once) and several (each tile's sums in device memory, added by the last tile to
// arrive), for every subset of learned arrays (a null one is neither written nor summed; with
// none the kernel has no closing phases), launched twice in a row as a replayed graph launches
// it: the arrival counts must be back at 0 for the second launch to add up its tiles at all.
// Tolerance: float sums of at most T B = 36 terms against double, 1e-6 of the scale.
TEST(PersistentEmulatedSums, BiasAndH0GradientsSummedInTheKernel) {
  const int64_t E = 3, T = 4, B = 9, H = 11, BH = B * H, state = (T + 1) * BH;
  const auto alpha = test::random_vector<float>(size_t(E * H), 24, 0.05, 1.0);
  const auto w = test::random_vector<float>(size_t(E * H * H), 21, -0.4, 0.4);
  auto dr = test::random_vector<float>(size_t(E * T * BH), 22);  // replaced by alpha * dv in each launch
  const auto v = test::random_vector<float>(size_t(E * state), 23);
  std::vector<float> dv(size_t(E * state));
  struct Geometry {
    int cluster;
    int64_t tile;
  };
  for (const Geometry& geo : {Geometry{1, 9}, Geometry{3, 4}, Geometry{4, 1}, Geometry{16, 2}})
    for (int learned = 0; learned < 8; ++learned) {
      const auto g = kernels::PersistentGeometry::make(H, B, geo.cluster, geo.tile, 64);
      SCOPED_TRACE("cluster " + std::to_string(geo.cluster) + ", tiles " + std::to_string(g.tiles) + ", learned " +
                   std::to_string(learned));
      const float poison = -1234.5f;
      std::vector<float> db_hid(size_t(E * H), poison), db_in = db_hid, dh0 = db_hid;
      std::vector<float> tile_sums(size_t(E * g.tiles * 2 * H));
      std::vector<uint32_t> arrivals(size_t(E * geo.cluster), 0);
      kernels::PersistentBackward bw{{}, w.data(), dr.data(), nullptr, v.data(), dv.data(),
                                     learned & 1 ? db_hid.data() : nullptr, learned & 2 ? db_in.data() : nullptr,
                                     learned & 4 ? dh0.data() : nullptr, tile_sums.data(), arrivals.data(), T,
                                     alpha.data(), Activation::Tanh, g};
      EXPECT_EQ(bw.phases(), 1 + 2 * (T + 1) + (learned == 0 ? 0 : g.tiles == 1 ? 1 : 3));
      for (int launch = 0; launch < 2; ++launch) {
        std::fill(db_hid.begin(), db_hid.end(), poison), std::fill(db_in.begin(), db_in.end(), poison);
        std::fill(dh0.begin(), dh0.end(), poison);
        const detail::EmulatorSchedule random{detail::ThreadOrder::Shuffled, detail::ClusterInterleaving::Random,
                                              uint64_t(launch)};
        detail::emulate_clusters(bw, g.clusters_total(E), random);
        EXPECT_EQ(arrivals, std::vector<uint32_t>(arrivals.size(), 0));
        const auto [bias_expected, h0_expected] = reference_sums(dv, E, T, B, H, alpha);
        const std::vector<float> untouched(size_t(E * H), poison);
        EXPECT_TRUE(test::close_to(db_hid, learned & 1 ? bias_expected : untouched, 1e-6)) << "db_hid";
        EXPECT_TRUE(test::close_to(db_in, learned & 2 ? bias_expected : untouched, 1e-6)) << "db_in";
        EXPECT_TRUE(test::close_to(dh0, learned & 4 ? h0_expected : untouched, 1e-6)) << "dh0";
      }
    }
}

// The dispatcher on an H100/H200 (227 KB per CTA, 132 SMs, clusters up to 16): the table of
// docs/gpu-dispatch.md.
TEST(RecurrenceDispatch, TheTableOnHopper) {
  const detail::DeviceLimits d = detail::DeviceLimits::hopper();
  const RecurrenceOptions automatic;
  struct Row {
    int64_t E, B, H;
    RecurrencePath path;
    int cluster;
    int64_t tile;
  };
  const RecurrencePath cta = RecurrencePath::PersistentCta, cl = RecurrencePath::PersistentCluster,
                       seq = RecurrencePath::Sequence;
  for (const Row& row : std::vector<Row>{{1, 32, 64, cta, 1, 4},      {1, 1, 64, cta, 1, 1},
                                         {64, 32, 64, cta, 1, 16},     {1, 64, 128, cl, 4, 4},
                                         {1, 1, 128, cl, 4, 1},        {64, 32, 128, seq, 1, 0},
                                         {1, 64, 256, cl, 8, 4},       {8, 32, 256, cl, 2, 4},
                                         {64, 64, 256, seq, 1, 0},     {1, 256, 256, cl, 2, 4},
                                         {1, 64, 512, cl, 8, 4},       {1, 256, 512, seq, 1, 0},
                                         {1, 8, 768, cl, 16, 4},       {1, 64, 700, seq, 1, 0},
                                         {1, 64, 900, seq, 1, 0},      {1, 1, 900, seq, 1, 0},
                                         {1, 256, 1024, seq, 1, 0}}) {
    const detail::RecurrencePlan plan = detail::plan_recurrence(row.E, row.B, row.H, d, automatic);
    SCOPED_TRACE("E " + std::to_string(row.E) + " B " + std::to_string(row.B) + " H " + std::to_string(row.H) +
                 ": " + plan.reason);
    EXPECT_EQ(plan.path, row.path);
    if (row.path == seq) continue;
    EXPECT_EQ(plan.geometry.cluster, row.cluster);
    EXPECT_EQ(plan.geometry.batch_tile, row.tile);
  }
}

// Whatever it picks fits the shared memory, covers the batch, and uses no empty tile.
TEST(RecurrenceDispatch, EveryPlanFitsAndCovers) {
  for (const detail::DeviceLimits& d :
       {detail::DeviceLimits::hopper(), detail::DeviceLimits{227 * 1024, 132, 8}, detail::DeviceLimits{99 * 1024, 46, 1}})
    for (int64_t E : {1, 3, 64})
      for (int64_t B : {1, 2, 5, 64, 300})
        for (int64_t H : {1, 2, 7, 64, 100, 128, 255, 256, 511, 700, 901, 2000}) {
          const detail::RecurrencePlan plan = detail::plan_recurrence(E, B, H, d, RecurrenceOptions{});
          if (plan.path == RecurrencePath::Sequence) continue;
          const auto& g = plan.geometry;
          EXPECT_LE(plan.shared_bytes, d.shared_bytes_per_cta) << plan.reason;
          EXPECT_LE(g.cluster, d.max_cluster);
          EXPECT_GE(g.tiles * g.batch_tile, B);
          EXPECT_LT((g.tiles - 1) * g.batch_tile, B);
          EXPECT_GE(g.slice * g.cluster, H);
          EXPECT_EQ(plan.path == RecurrencePath::PersistentCta, g.cluster == 1);
          EXPECT_LE(g.k_steps_per_thread(), detail::kPersistentMaxKSteps) << plan.reason;
        }
}

TEST(RecurrenceDispatch, ForcedPathsAndBadOptions) {
  const detail::DeviceLimits d = detail::DeviceLimits::hopper();
  RecurrenceOptions o;
  o.path = RecurrencePath::PersistentCta;
  test::expect_refused([&] { detail::plan_recurrence(1, 64, 256, d, o); }, "recurrence path");  // 256 KB of W_hid
  o.path = RecurrencePath::PersistentCluster;
  test::expect_refused([&] { detail::plan_recurrence(1, 64, 2000, d, o); }, "recurrence path");
  o.cluster_size = 16;
  test::expect_refused([&] { detail::plan_recurrence(1, 64, 64, detail::DeviceLimits{227 * 1024, 132, 8}, o); },
                       "recurrence cluster size");
  o.cluster_size = 0;
  test::expect_refused([&] { detail::plan_recurrence(1, 64, 64, detail::DeviceLimits{227 * 1024, 132, 1}, o); },
                       "recurrence path");
  o.threads = 100;
  test::expect_refused([&] { detail::plan_recurrence(1, 64, 64, d, o); }, "recurrence threads");
  o.threads = 0, o.batch_tile = -1;
  test::expect_refused([&] { detail::plan_recurrence(1, 64, 64, d, o); }, "recurrence batch tile");
  o.batch_tile = 1000;  // more than B: one tile of the whole batch
  const auto plan = detail::plan_recurrence(1, 64, 64, d, o);
  EXPECT_EQ(plan.geometry.batch_tile, 64);
  EXPECT_EQ(plan.geometry.tiles, 1);
  o.path = RecurrencePath::Sequence;
  EXPECT_EQ(detail::plan_recurrence(1, 64, 4000, d, o).path, RecurrencePath::Sequence);
  EXPECT_EQ(detail::parse_recurrence_path("cluster"), RecurrencePath::PersistentCluster);
  test::expect_refused([] { detail::parse_recurrence_path("fast"); }, "recurrence path");
}

}  // namespace
}  // namespace ctrnn
