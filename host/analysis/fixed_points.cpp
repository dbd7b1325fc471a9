// find_fixed_points: checks, the search on the network's backend (search.hpp and its engines),
// then on the host in double: q and F at the final states, duplicates merged, distance outliers
// dropped, Jacobians and their eigen-decomposition.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "analysis/eigen.hpp"
#include "analysis/reference_search.hpp"
#include "analysis/search_backends.hpp"
#include "ctrnn/analysis.hpp"
#include "ctrnn/error.hpp"
#include "double_network.hpp"
#include "reference/fixed_point_reference.hpp"
#include "tensor_checks.hpp"

namespace ctrnn {

namespace {

void check_options(const FixedPointOptions& o) {
  auto positive = [](double x, const char* name) {
    if (!(x > 0) || !std::isfinite(x)) throw InvalidArgument(name, "a finite number > 0", std::to_string(x));
  };
  auto nonnegative = [](double x, const char* name) {
    if (!(x >= 0) || !std::isfinite(x)) throw InvalidArgument(name, "a finite number >= 0", std::to_string(x));
  };
  nonnegative(o.tol_q, "tol_q");
  nonnegative(o.tol_dq, "tol_dq");
  nonnegative(o.tol_unique, "tol_unique");
  nonnegative(o.outlier_distance_scale, "outlier_distance_scale");
  if (!(o.max_q >= 0)) throw InvalidArgument("max_q", "a number >= 0 (or infinity)", std::to_string(o.max_q));
  if (o.max_iters < 0) throw InvalidArgument("max_iters", "an integer >= 0", std::to_string(o.max_iters));
  positive(o.lr, "lr");
  positive(o.adam_epsilon, "adam_epsilon");
  auto below_one = [](double x, const char* name) {
    if (!(x >= 0 && x < 1)) throw InvalidArgument(name, "a number in [0, 1)", std::to_string(x));
  };
  below_one(o.adam_beta1, "adam_beta1");
  below_one(o.adam_beta2, "adam_beta2");
  if (!(o.lr_decrease_factor > 0 && o.lr_decrease_factor <= 1))
    throw InvalidArgument("lr_decrease_factor", "a number in (0, 1]", std::to_string(o.lr_decrease_factor));
  if (!(o.lr_increase_factor >= 1) || !std::isfinite(o.lr_increase_factor))
    throw InvalidArgument("lr_increase_factor", "a finite number >= 1", std::to_string(o.lr_increase_factor));
  if (o.lr_window < 1) throw InvalidArgument("lr_window", "an integer >= 1", std::to_string(o.lr_window));
  if (o.clip_window < 1) throw InvalidArgument("clip_window", "an integer >= 1", std::to_string(o.clip_window));
  if (!(o.clip_percentile >= 0 && o.clip_percentile <= 100))
    throw InvalidArgument("clip_percentile", "a number in [0, 100]", std::to_string(o.clip_percentile));
  positive(o.initial_clip, "initial_clip");
  positive(o.max_clip, "max_clip");
}

template <class T>
Params<double> to_double(const Params<T>& p) {
  Params<double> d;
  d.E = p.E, d.I = p.I, d.H = p.H, d.O = p.O;
  const auto from = p.arrays();
  const auto to = d.arrays();
  for (int k = 0; k < kNumParamArrays; ++k) to[k]->assign(from[k]->begin(), from[k]->end());
  return d;
}

// The search's final states (E, N, H) and outcome, on the network's backend.
template <class T>
detail::SearchOutcome run_on_backend(const BasicNetwork<T>& net, const Params<T>& p, const std::vector<T>& drive,
                                     const std::vector<T>& x0, int64_t N, const FixedPointOptions& o,
                                     std::vector<double>& x) {
  const Dynamics d = net.dynamics();  // the activation (alpha: the network's, Params::alpha)
  auto on_reference = [&] {
    detail::ReferenceEngine<T> engine(p, p.alpha, d.activation, drive, x0, N);
    detail::SearchOutcome out = detail::run_search(engine, o);
    engine.read_states(x);
    return out;
  };
  if constexpr (std::is_same_v<T, float>) {
    detail::SearchProblem s;
    s.E = p.E, s.N = N, s.H = p.H, s.alpha = p.alpha.data(), s.activation = d.activation;
    s.w_hid = p.w_hid.data(), s.drive = drive.data(), s.x0 = x0.data();
    if (net.device() == Device::Cuda) return detail::search_on_cuda(s, o, x);
#ifdef CTRNN_WITH_BLAS
    return detail::search_on_blas(s, o, x);
#else
    return on_reference();
#endif
  } else {
    return on_reference();
  }
}

// The indices of network e's candidates to report: by increasing q, each unless it is within
// tol_unique of one already kept (state and input), far from the candidates (outliers) or above
// max_q.
std::vector<int64_t> select_points(const std::vector<double>& x, const std::vector<double>& q,
                                   const std::vector<double>& x0, const std::vector<double>& u, int64_t e, int64_t N,
                                   int64_t H, int64_t I, const FixedPointOptions& o) {
  std::vector<double> centroid(size_t(H), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h) centroid[size_t(h)] += x0[size_t((e * N + n) * H + h)] / double(N);
  auto distance = [&](const double* v) {
    double s = 0;
    for (int64_t h = 0; h < H; ++h) s += (v[h] - centroid[size_t(h)]) * (v[h] - centroid[size_t(h)]);
    return std::sqrt(s);
  };
  double mean_distance = 0;
  for (int64_t n = 0; n < N; ++n) mean_distance += distance(&x0[size_t((e * N + n) * H)]) / double(N);

  std::vector<int64_t> order(static_cast<size_t>(N));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return q[size_t(e * N + a)] < q[size_t(e * N + b)]; });
  auto close = [&](const double* a, const double* b, int64_t n) {
    for (int64_t k = 0; k < n; ++k)
      if (!(std::fabs(a[k] - b[k]) < o.tol_unique)) return false;
    return true;
  };
  std::vector<int64_t> kept;
  for (int64_t n : order) {
    const double* xn = &x[size_t((e * N + n) * H)];
    const double* un = &u[size_t((e * N + n) * I)];
    if (!(q[size_t(e * N + n)] <= o.max_q)) continue;
    if (o.outlier_distance_scale > 0 && mean_distance > 0 && !(distance(xn) < o.outlier_distance_scale * mean_distance))
      continue;
    bool duplicate = false;
    for (int64_t k : kept)
      if (close(xn, &x[size_t((e * N + k) * H)], H) && close(un, &u[size_t((e * N + k) * I)], I)) {
        duplicate = true;
        break;
      }
    if (!duplicate) kept.push_back(n);
  }
  return kept;
}

}  // namespace

#ifndef CTRNN_WITH_CUDA
namespace detail {
SearchOutcome search_on_cuda(const SearchProblem&, const FixedPointOptions&, std::vector<double>&) {
  throw StateError("ctrnn: a CUDA network's fixed points need the CUDA backend, and this build has none");
}
}  // namespace detail
#endif

int64_t FixedPoints::unstable_modes(int64_t k) const {
  if (eigenvalues_re.numel() == 0) return 0;
  int64_t n = 0;
  for (int64_t i = 0; i < H; ++i)
    if (std::hypot(eigenvalues_re.data[size_t(k * H + i)], eigenvalues_im.data[size_t(k * H + i)]) >= 1.0) ++n;
  return n;
}

template <class T>
FixedPointResult find_fixed_points(const BasicNetwork<T>& net, const Tensor<T>& states, const Tensor<T>& inputs,
                                   const FixedPointOptions& o) {
  check_options(o);
  const Config& c = net.config();
  const int64_t E = c.ensemble_size, I = c.dims[0], H = c.dims[1];
  // Candidates: (N, H) or (E, N, H).
  const Shape& ss = states.shape;
  if (Tensor<T>::count(ss) != states.numel() || (ss.size() != 2 && ss.size() != 3) || ss.back() != H ||
      (ss.size() == 3 && ss[0] != E))
    throw InvalidArgument("states", "shape (N, " + std::to_string(H) + ") or (" + std::to_string(E) + ", N, " +
                                               std::to_string(H) + ")",
                          shape_to_string(ss));
  const int64_t N = ss[ss.size() - 2];
  if (N < 1) throw InvalidArgument("states", "at least one candidate state (N >= 1)", shape_to_string(ss));
  detail::check_finite(states, "states");
  // Inputs: (I), (N, I) or (E, N, I).
  const Shape& us = inputs.shape;
  const bool one_input = us == Shape{I}, per_candidate = us == Shape{N, I}, per_network = us == Shape{E, N, I};
  if (Tensor<T>::count(us) != inputs.numel() || !(one_input || per_candidate || per_network))
    throw InvalidArgument("inputs",
                          "shape (" + std::to_string(I) + "), (" + std::to_string(N) + ", " + std::to_string(I) +
                              ") or (" + std::to_string(E) + ", " + std::to_string(N) + ", " + std::to_string(I) + ")",
                          shape_to_string(us));
  detail::check_finite(inputs, "inputs");

  // Everything per network (E, N, ...): candidates, inputs, and the constant drive (in double,
  // rounded to T once).
  const Params<T> p = net.params();
  const Params<double> pd = to_double(p);
  std::vector<double> x0(size_t(E * N * H)), u(size_t(E * N * I)), drive(size_t(E * N * H));
  for (int64_t e = 0; e < E; ++e)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t xs = ((ss.size() == 3 ? e * N : 0) + n) * H;
      for (int64_t h = 0; h < H; ++h) x0[size_t((e * N + n) * H + h)] = double(states.data[size_t(xs + h)]);
      const int64_t ui = one_input ? 0 : ((per_network ? e * N : 0) + n) * I;
      for (int64_t i = 0; i < I; ++i) u[size_t((e * N + n) * I + i)] = double(inputs.data[size_t(ui + i)]);
      reference::constant_drive(pd, e, &u[size_t((e * N + n) * I)], &drive[size_t((e * N + n) * H)]);
    }

  std::vector<double> x;
  const detail::SearchOutcome search = run_on_backend(net, p, std::vector<T>(drive.begin(), drive.end()),
                                                      std::vector<T>(x0.begin(), x0.end()), N, o, x);

  // q at the final states, in double.
  const Dynamics d = net.dynamics();
  std::vector<double> q(size_t(E * N));
  for (int64_t k = 0; k < E * N; ++k)
    q[size_t(k)] = reference::q_and_gradient(pd, k / N, &pd.alpha[size_t((k / N) * H)], d.activation, &x[size_t(k * H)],
                                             &drive[size_t(k * H)], static_cast<double*>(nullptr));

  FixedPointResult result;
  result.candidates = N;
  const bool decompose = detail::eigen_available();
  for (int64_t e = 0; e < E; ++e) {
    const std::vector<int64_t> kept = select_points(x, q, x0, u, e, N, H, I, o);
    const int64_t K = int64_t(kept.size());
    FixedPoints f;
    f.H = H, f.I = I;
    f.x_star = Tensor<double>({K, H}), f.x_init = Tensor<double>({K, H}), f.F_x_star = Tensor<double>({K, H});
    f.inputs = Tensor<double>({K, I});
    f.jacobians = Tensor<double>({K, H, H});
    if (decompose) {
      f.eigenvalues_re = Tensor<double>({K, H}), f.eigenvalues_im = Tensor<double>({K, H});
      f.eigenvectors_re = Tensor<double>({K, H, H}), f.eigenvectors_im = Tensor<double>({K, H, H});
    }
    for (int64_t k = 0; k < K; ++k) {
      const int64_t at = e * N + kept[size_t(k)];
      std::copy_n(&x[size_t(at * H)], H, &f.x_star.data[size_t(k * H)]);
      std::copy_n(&x0[size_t(at * H)], H, &f.x_init.data[size_t(k * H)]);
      std::copy_n(&u[size_t(at * I)], I, &f.inputs.data[size_t(k * I)]);
      reference::step_map(pd, e, &pd.alpha[size_t(e * H)], d.activation, &x[size_t(at * H)], &drive[size_t(at * H)],
                          &f.F_x_star.data[size_t(k * H)]);
      f.q_star.push_back(q[size_t(at)]);
      f.dq.push_back(search.dq[size_t(at)]);
      f.iterations.push_back(search.iterations[size_t(e)]);
      double* J = &f.jacobians.data[size_t(k * H * H)];
      reference::jacobian(pd, e, &pd.alpha[size_t(e * H)], d.activation, &x[size_t(at * H)], J);
      if (decompose) {
        detail::eigen_decompose(H, J, &f.eigenvalues_re.data[size_t(k * H)], &f.eigenvalues_im.data[size_t(k * H)],
                                &f.eigenvectors_re.data[size_t(k * H * H)], &f.eigenvectors_im.data[size_t(k * H * H)]);
        const double largest = std::hypot(f.eigenvalues_re.data[size_t(k * H)], f.eigenvalues_im.data[size_t(k * H)]);
        f.stable.push_back(largest < 1.0 ? 1 : 0);
      }
    }
    result.networks.push_back(std::move(f));
  }
  return result;
}

template FixedPointResult find_fixed_points<float>(const Network&, const Tensor<float>&, const Tensor<float>&,
                                                   const FixedPointOptions&);
template FixedPointResult find_fixed_points<double>(const BasicNetwork<double>&, const Tensor<double>&,
                                                    const Tensor<double>&, const FixedPointOptions&);

}  // namespace ctrnn
