// The dispatcher of the recurrence (recurrence_plan.hpp; the table: docs/gpu-dispatch.md).
#include "orchestrated/recurrence_plan.hpp"

#include <algorithm>
#include <vector>

#include "ctrnn/error.hpp"

namespace ctrnn::detail {

std::string to_string(RecurrencePath p) {
  switch (p) {
    case RecurrencePath::Auto: return "auto";
    case RecurrencePath::Sequence: return "sequence";
    case RecurrencePath::PersistentCta: return "cta";
    case RecurrencePath::PersistentCluster: return "cluster";
  }
  return "?";
}

RecurrencePath parse_recurrence_path(const std::string& name) {
  for (RecurrencePath p : {RecurrencePath::Auto, RecurrencePath::Sequence, RecurrencePath::PersistentCta,
                           RecurrencePath::PersistentCluster})
    if (to_string(p) == name) return p;
  throw InvalidArgument("recurrence path", "auto, sequence, cta or cluster", "'" + name + "'");
}

namespace {

// The most rows of a batch tile (up to B) whose layout fits in `floats` of shared memory next to a
// W_hid slice (persistent_geometry.hpp), 0 if none.
int64_t rows_that_fit(int64_t H, int64_t B, int cluster, int threads, int64_t floats) {
  const int64_t slice = (H + cluster - 1) / cluster;
  if (floats <= H * slice) return 0;
  int64_t rows = std::min(B, (floats - H * slice) / (2 * H));  // the state buffers alone
  while (rows > 0 && kernels::PersistentGeometry::make(H, B, cluster, rows, threads).floats() > floats) --rows;
  return rows;
}

std::string str(int64_t x) { return std::to_string(x); }

}  // namespace

RecurrencePlan plan_recurrence(int64_t E, int64_t B, int64_t H, const DeviceLimits& d, const RecurrenceOptions& o) {
  if (o.cluster_size < 0 || o.cluster_size > kMaxClusterSize)
    throw InvalidArgument("recurrence cluster size", "0 (the dispatcher's) to " + str(kMaxClusterSize),
                          str(o.cluster_size));
  if (o.batch_tile < 0)
    throw InvalidArgument("recurrence batch tile", "0 (the dispatcher's) or more", str(o.batch_tile));
  if (o.threads != 0 && (o.threads < 32 || o.threads > 1024 || o.threads % 32 != 0))
    throw InvalidArgument("recurrence threads", "0 (the dispatcher's) or a multiple of 32 in [32, 1024]", str(o.threads));
  RecurrencePlan plan;
  if (o.path == RecurrencePath::Sequence) {
    plan.reason = "sequence forced";
    return plan;
  }
  const bool automatic = o.path == RecurrencePath::Auto;
  // Cluster sizes to try, smallest first. Auto keeps slices of at least kMinSlice columns.
  std::vector<int> sizes;
  if (o.path == RecurrencePath::PersistentCta) {
    if (o.cluster_size > 1)
      throw InvalidArgument("recurrence cluster size", "0 or 1 on the cta path", str(o.cluster_size));
    sizes = {1};
  } else if (o.path == RecurrencePath::PersistentCluster && o.cluster_size) {
    if (o.cluster_size < 2 || o.cluster_size > d.max_cluster)
      throw InvalidArgument("recurrence cluster size", "2 to " + str(d.max_cluster) + " on this device",
                            str(o.cluster_size));
    sizes = {o.cluster_size};
  } else {
    if (automatic) sizes.push_back(1);
    for (int c : {2, 4, 8, 16})
      if (c <= d.max_cluster && c <= (automatic ? std::max<int64_t>(1, H / kMinSlice) : H)) sizes.push_back(c);
    if (sizes.empty())
      throw InvalidArgument("recurrence path", "cta or sequence: the device has no thread-block clusters", "cluster");
  }
  const int64_t floats = d.shared_bytes_per_cta / int64_t(sizeof(float));
  const int64_t min_rows = std::min(B, kMinTileRows);
  const int64_t need = o.batch_tile ? std::min(o.batch_tile, B) : min_rows;
  const int threads = o.threads ? o.threads : kPersistentThreads;
  // The geometry at cluster size c: a forced tile, or the E x tiles x c CTAs spread over the SMs
  // (at least min_rows rows each, at most what fits), evened out over the same number of tiles.
  const auto geometry_at = [&](int c) {
    int64_t tile = o.batch_tile ? need : 0;
    if (!tile) {
      const int64_t wanted = std::max<int64_t>(1, d.sms / (E * c));
      tile = std::min(rows_that_fit(H, B, c, threads, floats), std::max(min_rows, (B + wanted - 1) / wanted));
      const int64_t tiles = (B + tile - 1) / tile;
      tile = (B + tiles - 1) / tiles;
    }
    return kernels::PersistentGeometry::make(H, B, c, tile, threads);
  };
  std::vector<int> feasible;
  for (int c : sizes)
    if (rows_that_fit(H, B, c, threads, floats) >= need) feasible.push_back(c);
  // One CTA when its steps are short; otherwise the smallest size that keeps at least half the
  // SMs busy with tiles of `need` rows; failing that, the largest size that fits.
  int chosen = 0;
  if (automatic && !feasible.empty() && feasible.front() == 1 && geometry_at(1).k_steps_per_thread() <= kCtaMaxKSteps) {
    chosen = 1;
  } else {
    for (int c : feasible) {
      chosen = c;
      if (2 * E * c * ((B + need - 1) / need) >= d.sms) break;
    }
  }
  if (chosen) {
    const kernels::PersistentGeometry g = geometry_at(chosen);
    const std::string what = "W_hid slice of " + str(g.slice) + " columns and a tile of " + str(g.batch_tile) + " rows";
    if (automatic && g.k_steps_per_thread() > kPersistentMaxKSteps) {
      plan.reason = what + ": " + str(g.k_steps_per_thread()) + " k-steps per thread per step, over the " +
                    str(kPersistentMaxKSteps) + " past which the sequence is faster";
      return plan;
    }
    plan.path = chosen == 1 ? RecurrencePath::PersistentCta : RecurrencePath::PersistentCluster;
    plan.geometry = g;
    plan.shared_bytes = g.floats() * int64_t(sizeof(float));
    plan.reason = what + " fit in " + str(plan.shared_bytes) + " of " + str(d.shared_bytes_per_cta) +
                  " bytes of shared memory";
    return plan;
  }
  const std::string why = "H = " + str(H) + " with a tile of " + str(need) +
                          " rows does not fit " + str(d.shared_bytes_per_cta) +
                          " bytes of shared memory per CTA at cluster sizes up to " + str(sizes.back());
  if (automatic) {
    plan.reason = why;
    return plan;
  }
  throw InvalidArgument("recurrence path", "a size the " + to_string(o.path) + " path can hold", why);
}

}  // namespace ctrnn::detail
