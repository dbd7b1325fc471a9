#pragma once
// Where a persistent recurrence kernel (persistent_forward.hpp, persistent_backward.hpp) puts
// things: which cluster of CTAs owns which (network, batch tile), which CTA of the cluster owns
// which columns of the state, and the layout of each CTA's shared memory. One fact each, used by
// the device kernels, the host emulator and the dispatcher (host/orchestrated/recurrence_plan.*).
//
// A cluster of `cluster` CTAs (1: a plain CTA) runs the whole time loop for `batch_tile` rows of
// one network. CTA `rank` owns the columns [rank * slice, rank * slice + slice) of H (the last
// CTAs own fewer, or none, when H is not a multiple of the cluster size), holds the matching
// slice of W_hid (forward) or W_hid^T (backward) for the whole sequence, and holds the full state
// of its tile, double-buffered: step s reads buffer s % 2 and writes buffer (s + 1) % 2 of every
// CTA of the cluster (distributed shared memory), so one cluster barrier per step suffices.
#include <cstdint>

#include "ctrnn/host_device.hpp"

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

struct PersistentGeometry {
  int cluster = 1;         // CTAs per cluster
  int threads = 256;       // threads per CTA
  int64_t H = 0;           // state size
  int64_t slice = 0;       // columns per CTA: ceil(H / cluster)
  int64_t B = 0;           // batch rows per network
  int64_t batch_tile = 0;  // rows per cluster
  int64_t tiles = 0;       // clusters per network: ceil(B / batch_tile)

  static PersistentGeometry make(int64_t H, int64_t B, int cluster, int64_t batch_tile, int threads) {
    PersistentGeometry g;
    g.cluster = cluster, g.threads = threads, g.H = H, g.B = B, g.batch_tile = batch_tile;
    g.slice = (H + cluster - 1) / cluster;
    g.tiles = (B + batch_tile - 1) / batch_tile;
    return g;
  }

  // Shared memory of one CTA, in floats from its start:
  //   [0, H slice)                  W slice, row k, column jl at k * slice + jl
  //   buffer(0), buffer(1)          batch_tile x H each: the tile's full state, double-buffered
  //   carry (forward only)          batch_tile x slice: v of this CTA's columns
  //   bias (forward only)           slice: b_hid + b_in of this CTA's columns
  CTRNN_HD int64_t buffer(int64_t which) const { return H * slice + which * batch_tile * H; }
  CTRNN_HD int64_t carry() const { return H * slice + 2 * batch_tile * H; }
  CTRNN_HD int64_t bias() const { return carry() + batch_tile * slice; }
  CTRNN_HD int64_t forward_floats() const { return bias() + slice; }
  CTRNN_HD int64_t backward_floats() const { return carry(); }
  static int64_t forward_floats_for(int64_t H, int64_t slice, int64_t rows) {
    return H * slice + 2 * rows * H + rows * slice + slice;
  }

  CTRNN_HD int64_t clusters_total(int64_t E) const { return E * tiles; }
};

// One cluster's share of the work, from the cluster's index (network-major) and the CTA's rank.
struct PersistentTile {
  int64_t e;     // network
  int64_t b0;    // first batch row of the tile
  int64_t rows;  // rows in the tile (the last tile may be short)
  int64_t c0;    // first column of this CTA's slice
  int64_t cols;  // columns of this CTA's slice (0 for a CTA past the end of H)

  CTRNN_HD static PersistentTile of(const PersistentGeometry& g, int64_t cluster_index, int rank) {
    PersistentTile t;
    t.e = cluster_index / g.tiles;
    t.b0 = (cluster_index - t.e * g.tiles) * g.batch_tile;
    t.rows = g.B - t.b0 < g.batch_tile ? g.B - t.b0 : g.batch_tile;
    t.c0 = int64_t(rank) * g.slice;
    const int64_t left = g.H - t.c0;
    t.cols = left <= 0 ? 0 : (left < g.slice ? left : g.slice);
    return t;
  }
};

// The recurrent product of one step for the rows {g, g + G, g + 2G, ...} (G = ceil(rows /
// kTileRows)) and column jl of the slice: acc[i] = sum_k state[row_i][k] * w[k][jl], k ascending
// (the order of HostPrims::gemm). Rows past the tile are clamped to its last row and discarded by
// the caller, so the inner loop has no branch.
CTRNN_HD inline void tile_product(const float* state, const float* w, int64_t H, int64_t slice, int64_t rows,
                                  int64_t g, int64_t G, int64_t jl, float (&acc)[kTileRows]) {
  const float* row[kTileRows];
  CTRNN_UNROLL
  for (int i = 0; i < kTileRows; ++i) {
    const int64_t b = g + G * i;
    row[i] = state + (b < rows ? b : rows - 1) * H;
    acc[i] = 0.0f;
  }
  for (int64_t k = 0; k < H; ++k) {
    const float wk = w[k * slice + jl];
    CTRNN_UNROLL
    for (int i = 0; i < kTileRows; ++i) acc[i] += row[i][k] * wk;
  }
}

}  // namespace ctrnn::kernels
