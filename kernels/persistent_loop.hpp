#pragma once
// The phases and barriers both persistent kernels share (persistent_forward.hpp,
// persistent_backward.hpp), written once as the base PersistentLoop<Kernel> of each:
//
//   phase 0                     the kernel's load (its W slice, its initial state)
//   phase 2s - 1, s = 1..steps  partial products of step s: the state of the previous step
//                               (buffer (s - 1) % 2) times the CTA's W slice (the same code for
//                               both kernels: partial_products, persistent_geometry.hpp)
//   phase 2s                    the kernel's finish of step s
//   phase 2 steps + 1 + i       the kernel's closing phase i, i < closing_phases()
//
// The barrier after the load and after every finish is the cluster's: the load's so that every
// CTA of the cluster runs before any writes into its shared memory, a finish's because it writes
// the next state into its peers' buffers (and, after the last one, to keep every CTA alive until
// its peers' writes into it have landed). After the partial products and the closing phases,
// which touch only their own CTA's shared memory, the CTA's.
//
// A kernel K derives from PersistentLoop<K> and provides `geometry` (PersistentGeometry),
// steps(), closing_phases(), load(tile, smem, thread), finish(s, tile, cta, thread) and
// close(i, tile, cta, thread); the base gives what the device kernel (host/cuda/persistent.cu) and the host
// emulator (host/orchestrated/cluster_emulator.hpp) run: phases(), shared_floats(),
// barrier_after(phase) and run_phase(phase, cluster_index, cta, thread).
#include <cstdint>

#include "kernels/persistent_geometry.hpp"

namespace ctrnn::kernels {

// The barrier after `phase` of a loop of `steps` steps (the rule above).
CTRNN_HD inline Barrier loop_barrier_after(int64_t phase, int64_t steps) {
  return phase % 2 == 0 && phase <= 2 * steps ? Barrier::Cluster : Barrier::Cta;
}

template <class Kernel>
struct PersistentLoop {
  CTRNN_HD int64_t phases() const { return 1 + 2 * self().steps() + self().closing_phases(); }
  CTRNN_HD int64_t shared_floats() const { return self().geometry.floats(); }
  CTRNN_HD Barrier barrier_after(int64_t phase) const { return loop_barrier_after(phase, self().steps()); }

  template <class Cta>
  CTRNN_HD void run_phase(int64_t phase, int64_t cluster_index, const Cta& cta, int thread) const {
    const Kernel& k = self();
    const PersistentGeometry& g = k.geometry;
    const PersistentTile tile = PersistentTile::of(g, cluster_index, cta.rank());
    float* smem = cta.local();
    const int64_t s = (phase + 1) / 2;
    if (phase == 0)
      k.load(tile, smem, thread);
    else if (s > k.steps())
      k.close(phase - 1 - 2 * k.steps(), tile, cta, thread);
    else if (phase % 2 == 1)
      partial_products(g, tile, smem + g.buffer((s - 1) % 2), smem, smem + g.partial(), thread);
    else
      k.finish(s, tile, cta, thread);
  }

 private:
  CTRNN_HD const Kernel& self() const { return static_cast<const Kernel&>(*this); }
};

}  // namespace ctrnn::kernels
