#pragma once
// Dynamics analysis: the fixed and slow points of trained networks, their Jacobians and stability
// (Sussillo & Barak 2013; the algorithm of Golub & Sussillo's FixedPointFinder). What is computed,
// the tolerances and the stability reading are stated in docs/contract.md ("Fixed points").
//
// The map is one eval-mode leaky step of each network, with the state v the membrane potential:
//   F(v) = (1 - alpha) v + alpha (f(v) W_hid + b_hid + u* W_in + b_in)        (row vectors)
// and q(v) = 1/2 |F(v) - v|^2. find_fixed_points minimizes q from N candidate states per network
// at once (Adam on the mean q of each network, adaptive learning rate, adaptive gradient-norm
// clipping), then keeps the unique, non-outlying minima and linearizes F there.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ctrnn/network.hpp"
#include "ctrnn/tensor.hpp"

namespace ctrnn {

// FixedPointFinder's defaults throughout (Adam with epsilon 0.01; AdaptiveLearningRate and
// AdaptiveGradNormClip with their default hyperparameters).
struct FixedPointOptions {
  double tol_q = 1e-12;    // a candidate is done when q < tol_q ...
  double tol_dq = 1e-20;   // ... or |q - q_previous| < tol_dq * learning rate
  int64_t max_iters = 5000;
  double tol_unique = 1e-3;              // two points are one when every |difference| < this (state and input)
  double outlier_distance_scale = 10.0;  // drop points farther than this many mean candidate distances
                                         // from the candidates' centroid; 0: keep all
  double max_q = std::numeric_limits<double>::infinity();  // report only points with q <= max_q

  // Adam (PyTorch's formula) with FixedPointFinder's epsilon.
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 0.01;
  // Adaptive learning rate: starts at lr; x decrease_factor when the mean q exceeds every one of
  // the last lr_window values, x increase_factor when it fell monotonically over the window; at
  // most one change per lr_window iterations.
  double lr = 1.0, lr_decrease_factor = 0.95, lr_increase_factor = 1.0 / 0.95;
  int64_t lr_window = 5;
  // Adaptive clipping: the gradient (of each network's mean q) is clipped to the clip_percentile
  // of its norms over the last clip_window iterations (initial_clip before the first), at most
  // max_clip.
  int64_t clip_window = 100;
  double clip_percentile = 95.0, initial_clip = 1e12, max_clip = 1e12;
};

// One network's unique fixed (or slow) points, K of them, sorted by q. Arrays are double; a
// float network's states are float values (its search runs in float32, see the contract).
struct FixedPoints {
  int64_t H = 0, I = 0;
  Tensor<double> x_star;        // (K, H) the points (membrane potential v)
  Tensor<double> x_init;        // (K, H) the candidate each was found from
  Tensor<double> inputs;        // (K, I) the constant input u*
  Tensor<double> F_x_star;      // (K, H) F(x_star)
  std::vector<double> q_star;   // (K) q(x_star), evaluated in double
  std::vector<double> dq;       // (K) |q change| over the last iteration of the search
  std::vector<int64_t> iterations;  // (K) Adam steps the search took
  Tensor<double> jacobians;     // (K, H, H) J[k][i][j] = dF_i / dv_j at x_star[k]
  // Eigen-decomposition of each Jacobian, eigenvalues sorted by decreasing |lambda|: the columns
  // of eigenvectors[k] (unit norm, complex as re/im parts) are the eigenvectors (numpy's layout).
  // Empty in builds without LAPACK (OpenBLAS), where stable is empty too.
  Tensor<double> eigenvalues_re, eigenvalues_im;    // (K, H)
  Tensor<double> eigenvectors_re, eigenvectors_im;  // (K, H, H)
  std::vector<uint8_t> stable;  // (K) 1 when max |lambda| < 1 (stable for the discrete map)

  int64_t size() const { return static_cast<int64_t>(q_star.size()); }
  // The number of eigenvalues of point k with |lambda| >= 1 (its unstable modes).
  int64_t unstable_modes(int64_t k) const;
};

struct FixedPointResult {
  std::vector<FixedPoints> networks;  // E entries
  int64_t candidates = 0;             // N per network
};

// Finds the fixed points of every network of `net` (used in eval mode: no noise; a keep-mode
// network's carried state plays no part). Inputs are float32 for a Network (its search runs on
// its backend: OpenBLAS on the CPU, the GPU for a CUDA network) and double for the library's
// double networks (the reference, in double).
//   states: (N, H) for every network or (E, N, H), finite;
//   inputs: (I) one input for all candidates, (N, I), or (E, N, I), finite.
// Throws InvalidArgument naming the argument for a wrong shape, N < 1, a non-finite value or a
// bad option; nothing changes in the network.
template <class T>
FixedPointResult find_fixed_points(const BasicNetwork<T>& net, const Tensor<T>& states, const Tensor<T>& inputs,
                                   const FixedPointOptions& options = {});

// The membrane potentials v_1..v_T (E, T, B, H) of an eval-mode forward from v_0 = 0 (h0 in learn
// mode) on u (T, B, I) or (E, T, B, I): the trajectories candidates are drawn from. Computed on the
// host in double from the network's parameters.
template <class T>
Tensor<T> state_trajectories(const BasicNetwork<T>& net, const Tensor<T>& u);

// n candidate states drawn from trajectories (T, B, H) (one network) or (E, T, B, H) (one draw per
// network): a uniformly random (trial, time) among the valid ones (valid: (T, B) nonzero where a
// state may be drawn, or null for all), plus Gaussian noise of std noise_scale, as
// FixedPointFinder's sample_states. Returns (n, H) or (E, n, H). Deterministic in seed.
Tensor<float> sample_states(const Tensor<float>& trajectories, int64_t n, double noise_scale = 0.5,
                            const Tensor<uint8_t>* valid = nullptr, uint64_t seed = 0);

// The results as safetensors: per network e the tensors "e.x_star", ... (the FixedPoints field
// names), written atomically; load refuses (FileError) a file that is not such a record.
void save_fixed_points(const std::string& path, const FixedPointResult& result);
FixedPointResult load_fixed_points(const std::string& path);

extern template FixedPointResult find_fixed_points<float>(const Network&, const Tensor<float>&, const Tensor<float>&,
                                                          const FixedPointOptions&);
extern template Tensor<float> state_trajectories<float>(const Network&, const Tensor<float>&);

}  // namespace ctrnn
