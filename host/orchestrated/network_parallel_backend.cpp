#include "orchestrated/network_parallel_backend.hpp"

#include <algorithm>
#include <atomic>
#include <exception>

#include "ctrnn/error.hpp"
#include "orchestrated/blas_primitives.hpp"
#include "orchestrated/host_parallel.hpp"
#include "orchestrated/orchestrated_backend.hpp"

namespace ctrnn::detail {
namespace {

// Network e of ensemble c as a one-network config: what its backend reads of it (dims, the learned
// arrays, first_network, alpha's bounds, tau_plasticity, the sigmas) as the one-network run of
// that network has it. Masks and parameters come through set_constraints and set_params.
Config network_config(const Config& c, int64_t e) {
  Config one = c;
  one.ensemble_size = 1;
  one.first_network = c.first_network + e;
  one.preact_noise = c.preact_noise[e];
  one.postact_noise = c.postact_noise[e];
  if (c.tau.per_network() && c.tau.per_neuron()) {
    std::vector<double> row;
    for (int64_t h = 0; h < c.tau.neurons(); ++h) row.push_back(c.tau.at(e, h));
    one.tau = TimeConstants::each_neuron(row);
  } else if (c.tau.per_network()) {
    one.tau = c.tau.at(e, 0);
  }
  return one;
}

// Network e's n values of an (E, n) array; an empty array (an absent mask or state) stays empty.
std::vector<float> slice(const std::vector<float>& x, int64_t e, int64_t n) {
  return x.empty() ? std::vector<float>() : std::vector<float>(x.begin() + e * n, x.begin() + (e + 1) * n);
}

// The networks' arrays `of(part)`, one after another: the (E, n) array of E one-network ones.
template <class Part, class Of>
std::vector<float> concatenate(const std::vector<Part>& parts, Of&& of) {
  std::vector<float> all;
  for (const Part& part : parts) all.insert(all.end(), of(part).begin(), of(part).end());
  return all;
}

// Network e's values of each per-network hyperparameter, as values for all.
OptimizerConfig network_optimizer(const OptimizerConfig& o, int64_t e) {
  OptimizerConfig one = o;
  one.lr = o.lr[e], one.momentum = o.momentum[e], one.weight_decay = o.weight_decay[e];
  one.clip_grad_norm = o.clip_grad_norm[e];
  return one;
}
LossArgs<float> network_loss(const LossArgs<float>& l, int64_t e, int64_t target_size) {
  LossArgs<float> one = l;
  if (l.target_per_network) one.target.ptr = l.target.ptr + e * target_size;
  one.target_per_network = false;
  for (PerNetwork& x : one.weights.lambda) x = x[e];
  return one;
}

template <class T>
Located<T> offset(Located<T> p, int64_t n) {
  if (p) p.ptr += n;
  return p;
}

}  // namespace

NetworkParallelBackend::NetworkParallelBackend(const Config& c, bool poison, int threads)
    : threads_(threads), E_(c.ensemble_size), I_(c.dims[0]), H_(c.dims[1]), O_(c.dims[2]) {
  for (int64_t e = 0; e < E_; ++e) networks_.push_back(std::make_unique<Network>(network_config(c, e), poison, 1));
}

NetworkParallelBackend::~NetworkParallelBackend() = default;

int NetworkParallelBackend::threads() const { return threads_ > 0 ? threads_ : blas_thread_count(); }

std::string NetworkParallelBackend::description() const { return blas_description(threads()); }

// How the networks share the threads: with at least as many networks as threads, min(threads, E)
// threads take networks as they come free, each network on one thread (its passes whole, on the
// thread that runs it). With fewer networks than threads, networks large enough for the
// one-network backend to cut their per-step product (B x H x H, blas_gemm_cut) run one after
// another on all the threads; smaller ones in parallel, one thread each (the other threads
// idle: the pool runs one job at a time, so a network's own passes could not use them). Which
// thread runs a network, and on how many threads, changes none of its bits.
template <class F>
void NetworkParallelBackend::each(int64_t batch, const F& f) {
  const int threads = this->threads();
  const bool one_by_one = E_ < threads && batch > 0 && blas_gemm_cut(batch, H_, H_, 1).pieces > 1;
  const int parts = one_by_one ? 1 : int(std::min<int64_t>(threads, E_));
  const int network_threads = one_by_one ? threads : 1;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(E_));
  std::atomic<int64_t> next{0};
  parallel_ranges(parts, parts, [&](int64_t, int64_t) {
    for (int64_t e = next.fetch_add(1); e < E_; e = next.fetch_add(1)) {
      try {
        networks_[size_t(e)]->primitives().set_threads(network_threads);
        f(e, *networks_[size_t(e)]);
      } catch (...) {  // parallel_ranges's functions must not throw
        errors[size_t(e)] = std::current_exception();
      }
    }
  });
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

// ---- Parameters, masks, optimizer state: (E, ...) arrays cut into the networks' and joined

int64_t NetworkParallelBackend::per_network(int k) const { return element_count(param_shape(k, 1, I_, H_, O_)); }

void NetworkParallelBackend::check_sizes(const Params<float>& p, const char* what) const {
  const auto arrays = p.arrays();
  for (int k = 0; k < kNumParamArrays; ++k)
    if (int64_t(arrays[k]->size()) != E_ * per_network(k))
      throw InvalidArgument(std::string(what) + " " + kParamNames[k], std::to_string(E_ * per_network(k)) + " values",
                            std::to_string(arrays[k]->size()));
}

std::vector<Params<float>> NetworkParallelBackend::split(const Params<float>& p, int64_t E) {
  std::vector<Params<float>> parts(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; ++e) {
    parts[size_t(e)] = Params<float>::zeros(1, p.I, p.H, p.O);
    const auto src = p.arrays();
    const auto dst = parts[size_t(e)].arrays();
    for (int k = 0; k < kNumParamArrays; ++k) {
      const size_t n = dst[k]->size();
      std::copy(src[k]->begin() + e * n, src[k]->begin() + (e + 1) * n, dst[k]->begin());
    }
  }
  return parts;
}

Params<float> NetworkParallelBackend::zeros() const { return Params<float>::zeros(E_, I_, H_, O_); }

void NetworkParallelBackend::gather(Params<float>& dst, int64_t e, const Params<float>& src) const {
  const auto from = src.arrays();
  const auto to = dst.arrays();
  for (int k = 0; k < kNumParamArrays; ++k)
    std::copy(from[k]->begin(), from[k]->end(), to[k]->begin() + e * per_network(k));
}

void NetworkParallelBackend::set_params(const Params<float>& p) {
  check_sizes(p, "params");
  const std::vector<Params<float>> parts = split(p, E_);
  each(0, [&](int64_t e, Network& n) { n.set_params(parts[size_t(e)]); });
}

Params<float> NetworkParallelBackend::gathered(void (Backend<float>::*read)(Params<float>&)) {
  Params<float> all = zeros();
  each(0, [&](int64_t e, Network& n) {
    Params<float> one;
    (n.*read)(one);
    gather(all, e, one);
  });
  return all;
}

void NetworkParallelBackend::get_params(Params<float>& p) { p = gathered(&Backend<float>::get_params); }

void NetworkParallelBackend::write_params(const std::array<Located<const float>, kNumParamArrays>& src) {
  each(0, [&](int64_t e, Network& n) {
    std::array<Located<const float>, kNumParamArrays> one;
    for (int k = 0; k < kNumParamArrays; ++k) one[k] = offset(src[k], e * per_network(k));
    n.write_params(one);
  });
}

void NetworkParallelBackend::set_constraints(const std::array<LayerConstraints<float>, 3>& c) {
  std::array<int64_t, 3> size{};
  for (int l = 0; l < 3; ++l) {
    size[size_t(l)] = per_network(l);
    const std::pair<const std::vector<float>*, const char*> masks[] = {
        {&c[l].sparsity, "sparsity mask"}, {&c[l].ei, "E/I mask"}, {&c[l].plasticity, "plasticity"},
        {&c[l].growth, "growth probability"}};
    for (const auto& [mask, what] : masks)
      if (!mask->empty() && int64_t(mask->size()) != E_ * size[size_t(l)])
        throw InvalidArgument(what, std::to_string(E_ * size[size_t(l)]) + " values (E, pre, post)",
                              std::to_string(mask->size()));
  }
  each(0, [&](int64_t e, Network& n) {
    std::array<LayerConstraints<float>, 3> one;
    for (int l = 0; l < 3; ++l) {
      const int64_t m = size[size_t(l)];
      one[l].E = 1, one[l].pre = c[l].pre, one[l].post = c[l].post;
      one[l].sparsity = slice(c[l].sparsity, e, m), one[l].ei = slice(c[l].ei, e, m);
      one[l].plasticity = slice(c[l].plasticity, e, m), one[l].growth = slice(c[l].growth, e, m);
    }
    n.set_constraints(one);
  });
}

void NetworkParallelBackend::get_sparsity(std::array<std::vector<float>, 3>& s) {
  std::vector<std::array<std::vector<float>, 3>> parts(static_cast<size_t>(E_));
  each(0, [&](int64_t e, Network& n) { n.get_sparsity(parts[size_t(e)]); });
  for (int l = 0; l < 3; ++l) s[l] = concatenate(parts, [l](const auto& part) -> const auto& { return part[l]; });
}

void NetworkParallelBackend::get_optimizer_state(OptimizerState<float>& s) {
  OptimizerState<float> all{zeros(), zeros()};
  each(0, [&](int64_t e, Network& n) {
    OptimizerState<float> one;
    n.get_optimizer_state(one);
    gather(all.m, e, one.m);
    gather(all.v, e, one.v);
  });
  s = std::move(all);
}

void NetworkParallelBackend::set_optimizer_state(const OptimizerState<float>& s) {
  check_sizes(s.m, "optimizer state m");
  check_sizes(s.v, "optimizer state v");
  const std::vector<Params<float>> m = split(s.m, E_), v = split(s.v, E_);
  each(0, [&](int64_t e, Network& n) { n.set_optimizer_state({m[size_t(e)], v[size_t(e)]}); });
}

std::vector<uint8_t> NetworkParallelBackend::diverged() const {
  std::vector<uint8_t> d;
  for (const auto& n : networks_) d.push_back(n->diverged()[0]);
  return d;
}

void NetworkParallelBackend::set_diverged(const std::vector<uint8_t>& d) {
  if (int64_t(d.size()) != E_) throw InvalidArgument("diverged", std::to_string(E_) + " flags (E)", std::to_string(d.size()));
  for (int64_t e = 0; e < E_; ++e) networks_[size_t(e)]->set_diverged({d[size_t(e)]});
}

// ---- Forward, loss, BPTT, updates: each network's part of the call

namespace {

// Refused before any network starts (each network checks its own part against E = 1).
void check_dynamics(const Dynamics& d, int64_t E) {
  if (d.networks() != E || int64_t(d.postact_noise.size()) != E)
    throw InvalidArgument("dynamics", std::to_string(E) + " sigmas of each noise (E)",
                          std::to_string(d.preact_noise.size()) + " and " + std::to_string(d.postact_noise.size()));
}

// Network e's part of a forward call: its u (per-network u) and its sigmas.
ForwardArgs<float> network_forward(const ForwardArgs<float>& a, int64_t e, int64_t u_size) {
  ForwardArgs<float> one = a;
  if (a.u_per_network) one.u = offset(a.u, e * u_size);
  one.dynamics.preact_noise = {a.dynamics.preact_noise[size_t(e)]};
  one.dynamics.postact_noise = {a.dynamics.postact_noise[size_t(e)]};
  return one;
}

}  // namespace

void NetworkParallelBackend::forward(const ForwardArgs<float>& a) {
  check_dynamics(a.dynamics, E_);
  const int64_t u_size = a.steps * a.batch * I_;
  each(a.batch, [&](int64_t e, Network& n) { n.forward(network_forward(a, e, u_size)); });
  T_ = a.steps, B_ = a.batch, u_per_network_ = a.u_per_network;
}

void NetworkParallelBackend::read_forward(Located<float> y, Located<float> r) {
  each(B_, [&](int64_t e, Network& n) { n.read_forward(offset(y, e * T_ * B_ * O_), offset(r, e * T_ * B_ * H_)); });
}

void NetworkParallelBackend::get_kept_state(std::vector<float>& v) {
  std::vector<std::vector<float>> parts(static_cast<size_t>(E_));
  each(0, [&](int64_t e, Network& n) { n.get_kept_state(parts[size_t(e)]); });
  v = concatenate(parts, [](const auto& part) -> const auto& { return part; });
}

void NetworkParallelBackend::set_kept_state(const std::vector<float>& v, int64_t batch) {
  if (!v.empty() && int64_t(v.size()) != E_ * batch * H_)
    throw InvalidArgument("kept state", std::to_string(E_ * batch * H_) + " values (E, B, H)", std::to_string(v.size()));
  const int64_t n = batch * H_;
  each(0, [&](int64_t e, Network& one) {
    one.set_kept_state(slice(v, e, n), batch);
  });
}

std::vector<double> NetworkParallelBackend::loss(const LossArgs<float>& a) {
  std::vector<double> terms(size_t(E_ * kNumLossTerms));
  each(B_, [&](int64_t e, Network& n) {
    const std::vector<double> t = n.loss(network_loss(a, e, T_ * B_ * O_));
    std::copy(t.begin(), t.end(), terms.begin() + e * kNumLossTerms);
  });
  return terms;
}

void NetworkParallelBackend::backward(Located<const float> gy, Located<const float> gr, Located<float> du) {
  const int64_t u_size = T_ * B_ * I_;
  const bool shared_du = du && !u_per_network_;  // each network's into du_, summed below
  if (shared_du) du_.resize(size_t(E_ * u_size));
  each(B_, [&](int64_t e, Network& n) {
    const Located<float> mine = !du ? du : shared_du ? Located<float>(du_.data() + e * u_size) : offset(du, e * u_size);
    n.backward(offset(gy, e * T_ * B_ * O_), offset(gr, e * T_ * B_ * H_), mine);
  });
  if (!shared_du) return;
  float* sum = du.ptr;  // host memory: this backend's location
  std::copy(du_.begin(), du_.begin() + u_size, sum);
  for (int64_t e = 1; e < E_; ++e) {
    const float* part = du_.data() + e * u_size;
    for (int64_t i = 0; i < u_size; ++i) sum[i] += part[i];
  }
}

void NetworkParallelBackend::backward_from_loss() {
  each(B_, [](int64_t, Network& n) { n.backward_from_loss(); });
}

void NetworkParallelBackend::read_gradients(Gradients<float>& g) { g = gathered(&Backend<float>::read_gradients); }

void NetworkParallelBackend::read_gradient(int k, Located<float> dst) {
  each(0, [&](int64_t e, Network& n) { n.read_gradient(k, offset(dst, e * per_network(k))); });
}

std::vector<double> NetworkParallelBackend::optimizer_step(const OptimizerConfig& opt, int64_t step) {
  std::vector<double> norms(static_cast<size_t>(E_));
  each(0, [&](int64_t e, Network& n) { norms[size_t(e)] = n.optimizer_step(network_optimizer(opt, e), step)[0]; });
  return norms;
}

void NetworkParallelBackend::grow_synapses(uint64_t seed, int64_t step) {
  each(0, [&](int64_t, Network& n) { n.grow_synapses(seed, step); });
}

StepResult NetworkParallelBackend::train_step(const ForwardArgs<float>& f, const LossArgs<float>& l,
                                              const OptimizerConfig& opt, int64_t step) {
  check_dynamics(f.dynamics, E_);
  StepResult r;
  r.terms.resize(size_t(E_ * kNumLossTerms));
  r.grad_norm.resize(size_t(E_));
  r.diverged.resize(size_t(E_));
  const int64_t u_size = f.steps * f.batch * I_, target_size = f.steps * f.batch * O_;
  each(f.batch, [&](int64_t e, Network& n) {
    const StepResult one =
        n.train_step(network_forward(f, e, u_size), network_loss(l, e, target_size), network_optimizer(opt, e), step);
    std::copy(one.terms.begin(), one.terms.end(), r.terms.begin() + e * kNumLossTerms);
    r.grad_norm[size_t(e)] = one.grad_norm[0];
    r.diverged[size_t(e)] = one.diverged[0];
  });
  T_ = f.steps, B_ = f.batch, u_per_network_ = f.u_per_network;
  return r;
}

}  // namespace ctrnn::detail
