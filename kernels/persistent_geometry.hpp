#pragma once
// Where a persistent recurrence kernel (persistent_forward.hpp, persistent_backward.hpp) puts
// things: which cluster of CTAs owns which (network, batch tile), which CTA of the cluster owns
// which columns of the state, how a CTA's threads share the recurrent product, and the layout of
// each CTA's shared memory. One fact each, used by the device kernels, the host emulator and the
// dispatcher (host/orchestrated/recurrence_plan.*).
//
// A cluster of `cluster` CTAs (1: a plain CTA) runs the whole time loop for `batch_tile` rows of
// one network. CTA `rank` owns the columns [rank * slice, rank * slice + slice) of H (the last
// CTAs own fewer, or none, when H is not a multiple of the cluster size), holds the matching
// slice of W_hid (forward) or W_hid^T (backward) for the whole sequence, and holds the full state
// of its tile, double-buffered: step s reads buffer (s - 1) % 2 and writes buffer s % 2 of every
// CTA of the cluster (distributed shared memory), so one cluster barrier per step suffices.
//
// A step is two phases: the partial products (each thread one register tile of kTileRows rows
// of one column, over the k = p, p + parts, p + 2 parts, ... of its part p of the sum), a CTA
// barrier, then the finish (each element's partial sums added in part order, then the step's
// element-wise lines), then the cluster barrier (persistent_loop.hpp runs the phases).
#include <cstdint>

#include "kernels/host_device.hpp"

// Loops over a register tile must unroll on the device: an array indexed at run time lives in
// local memory.
#if defined(__CUDA_ARCH__)
#define CTRNN_UNROLL _Pragma("unroll")
#else
#define CTRNN_UNROLL
#endif

namespace ctrnn::kernels {

// Rows of the batch a thread carries through the recurrent product at once: each W_hid element
// read from shared memory serves this many rows (a register tile).
constexpr int kTileRows = 4;
// The fewest terms of the recurrent sum one part gets when the sum is split among threads.
constexpr int64_t kMinPartTerms = 8;

// What separates a phase from the next.
enum class Barrier { Cta, Cluster };

struct PersistentGeometry {
  int cluster = 1;         // CTAs per cluster
  int threads = 256;       // threads per CTA
  int64_t H = 0;           // state size
  int64_t slice = 0;       // columns per CTA: ceil(H / cluster)
  int64_t B = 0;           // batch rows per network
  int64_t batch_tile = 0;  // rows per cluster
  int64_t tiles = 0;       // clusters per network: ceil(B / batch_tile)
  int64_t parts = 1;       // the recurrent sum split into this many parts (threads idle otherwise)

  static PersistentGeometry make(int64_t H, int64_t B, int cluster, int64_t batch_tile, int threads) {
    PersistentGeometry g;
    g.cluster = cluster, g.threads = threads, g.H = H, g.B = B, g.batch_tile = batch_tile;
    g.slice = (H + cluster - 1) / cluster;
    g.tiles = (B + batch_tile - 1) / batch_tile;
    const int64_t items = (batch_tile + kTileRows - 1) / kTileRows * g.slice;  // register tiles per step
    const int64_t by_threads = threads / items, by_terms = H / kMinPartTerms;
    g.parts = by_threads < by_terms ? by_threads : by_terms;
    if (g.parts < 1) g.parts = 1;
    return g;
  }

  // Shared memory of one CTA, in floats from its start (the same layout forward and backward):
  //   [0, H slice)         W slice, row k, column jl at k * slice + jl
  //   buffer(0), (1)       batch_tile x H each: the tile's full state, double-buffered
  //   carry                batch_tile x slice, per (row, column) of this CTA's slice: v
  //                        (forward); the sum of dv_t over the steps so far (backward)
  //   bias                 slice: b_hid + b_in of this CTA's columns (forward); [0] whether this
  //                        CTA adds up its network's batch tiles (backward, persistent_backward.hpp)
  //   partial              parts x batch_tile x slice: the partial sums of the recurrent product
  CTRNN_HD int64_t buffer(int64_t which) const { return H * slice + which * batch_tile * H; }
  CTRNN_HD int64_t carry() const { return buffer(2); }
  CTRNN_HD int64_t bias() const { return carry() + batch_tile * slice; }
  CTRNN_HD int64_t partial() const { return bias() + slice; }
  CTRNN_HD int64_t floats() const { return partial() + parts * batch_tile * slice; }

  CTRNN_HD int64_t clusters_total(int64_t E) const { return E * tiles; }
  // The serial length of one thread's share of a step's partial products, in iterations over k
  // (each kTileRows multiply-adds): its tasks (register tile, part) times the k's of a part. The
  // dispatcher's measure of a step's latency on a CTA (docs/gpu-dispatch.md).
  CTRNN_HD int64_t k_steps_per_thread() const {
    const int64_t tasks = parts * ((batch_tile + kTileRows - 1) / kTileRows) * slice;
    return (tasks + threads - 1) / threads * ((H + parts - 1) / parts);
  }
};

// One cluster's share of the work, from the cluster's index (network-major) and the CTA's rank.
struct PersistentTile {
  int64_t e;      // network
  int64_t index;  // the tile's index among its network's tiles
  int64_t b0;     // first batch row of the tile
  int64_t rows;   // rows in the tile (the last tile may be short)
  int64_t c0;     // first column of this CTA's slice
  int64_t cols;   // columns of this CTA's slice (0 for a CTA past the end of H)

  CTRNN_HD static PersistentTile of(const PersistentGeometry& g, int64_t cluster_index, int rank) {
    PersistentTile t;
    t.e = cluster_index / g.tiles;
    t.index = cluster_index - t.e * g.tiles;
    t.b0 = t.index * g.batch_tile;
    t.rows = g.B - t.b0 < g.batch_tile ? g.B - t.b0 : g.batch_tile;
    t.c0 = int64_t(rank) * g.slice;
    const int64_t left = g.H - t.c0;
    t.cols = left <= 0 ? 0 : (left < g.slice ? left : g.slice);
    return t;
  }
};

// Phase "partial products" of a step: for every register tile (rows {gi, gi + G, gi + 2G, ...}
// with G = ceil(rows / kTileRows), column jl) and part p, the sum over k = p, p + parts, ... of
// state[row][k] * w[k][jl], into partial[p][row][jl]. Rows past the tile are clamped to its last
// row (no branch in the inner loop) and not stored.
CTRNN_HD inline void partial_products(const PersistentGeometry& g, const PersistentTile& tile, const float* state,
                                      const float* w, float* partial, int thread) {
  const int64_t G = (tile.rows + kTileRows - 1) / kTileRows, items = G * tile.cols, S = g.slice;
  for (int64_t task = thread; task < g.parts * items; task += g.threads) {
    const int64_t p = task / items, item = task - p * items, gi = item / tile.cols, jl = item - gi * tile.cols;
    const float* row[kTileRows];
    float acc[kTileRows];
    CTRNN_UNROLL
    for (int i = 0; i < kTileRows; ++i) {
      const int64_t b = gi + G * i;
      row[i] = state + (b < tile.rows ? b : tile.rows - 1) * g.H;
      acc[i] = 0.0f;
    }
    for (int64_t k = p; k < g.H; k += g.parts) {
      const float wk = w[k * S + jl];
      CTRNN_UNROLL
      for (int i = 0; i < kTileRows; ++i) acc[i] += row[i][k] * wk;
    }
    CTRNN_UNROLL
    for (int i = 0; i < kTileRows; ++i) {
      const int64_t b = gi + G * i;
      if (b < tile.rows) partial[(p * g.batch_tile + b) * S + jl] = acc[i];
    }
  }
}

// The recurrent product of (row b, column jl): the partial sums added in part order. With one
// part this is the sum over k in ascending order, HostPrims::gemm's order.
CTRNN_HD inline float product(const PersistentGeometry& g, const float* partial, int64_t b, int64_t jl) {
  float s = partial[b * g.slice + jl];
  for (int64_t p = 1; p < g.parts; ++p) s += partial[(p * g.batch_tile + b) * g.slice + jl];
  return s;
}

}  // namespace ctrnn::kernels
