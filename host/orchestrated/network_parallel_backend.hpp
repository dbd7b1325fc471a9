#pragma once
// The CPU backend of float ensembles (E > 1, make_host_backend): network by network. Each network
// is its own one-network OrchestratedBackend<BlasHostPrims>, built from the ensemble's config as
// the one-network run of that network (ensemble_size 1, first_network + e, its own sigmas and
// tau), and every call runs each network's whole part of it (forward, loss, BPTT, optimizer
// step...) as that network's own computation, the networks spread over the threads.
// Why not one batched sequence over all E networks (what the CUDA backend runs): on a CPU the
// batched sequence is time-major, so at each time step all E networks' small products run one
// after the other and each network's weights and states leave the cache between its uses (at
// (H, B, T) = (64, 32, 100) an E = 64 step cost ~1.6x per network what an E = 1 step does), and
// its threads meet at every one of the ~10^3 short passes of a step. Here a network's arrays stay
// in its core's cache and the threads meet once per call (bench/RESULTS.md, "Sweeps").
// Results: network k computes exactly what the one-network backend computes for network k alone
// (first_network = k), and that backend's results do not depend on its thread count (products cut
// by their shape, blas_gemm.cpp); so every network's bits are the same at any thread count and
// equal its one-network run's. Where networks meet (dL/du of a shared u) they are summed in
// network order.
// Refusals: what all networks would refuse alike (shapes, sizes, a missing forward, a kept state
// of another batch) is refused with nothing changed; a call that only some networks refuse (host
// memory running out part way) has run in the others, and throws the first network's error.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"

namespace ctrnn::detail {

struct BlasHostPrims;
template <class P>
class OrchestratedBackend;

class NetworkParallelBackend final : public Backend<float> {
 public:
  // poison: as OrchestratedBackend's (tests). threads: the threads to spread the networks over;
  // 0: OpenBLAS's thread count (as the user set it), read at every call.
  NetworkParallelBackend(const Config& c, bool poison, int threads = 0);
  ~NetworkParallelBackend() override;

  Device device() const override { return Device::Cpu; }
  std::string description() const override;

  void set_params(const Params<float>& p) override;
  void get_params(Params<float>& p) override;
  void write_params(const std::array<Located<const float>, kNumParamArrays>& src) override;
  void set_constraints(const std::array<LayerConstraints<float>, 3>& c) override;
  void get_sparsity(std::array<std::vector<float>, 3>& s) override;

  void forward(const ForwardArgs<float>& a) override;
  void read_forward(Located<float> y, Located<float> r) override;
  void get_kept_state(std::vector<float>& v) override;
  void set_kept_state(const std::vector<float>& v, int64_t batch) override;

  std::vector<double> loss(const LossArgs<float>& a) override;
  void backward(Located<const float> gy, Located<const float> gr, Located<float> du = {}) override;
  void backward_from_loss() override;
  void read_gradients(Gradients<float>& g) override;
  void read_gradient(int k, Located<float> dst) override;

  std::vector<double> optimizer_step(const OptimizerConfig& opt, int64_t step) override;
  void grow_synapses(uint64_t seed, int64_t step) override;
  StepResult train_step(const ForwardArgs<float>& f, const LossArgs<float>& l, const OptimizerConfig& opt,
                        int64_t step) override;
  std::vector<uint8_t> diverged() const override;
  void set_diverged(const std::vector<uint8_t>& d) override;
  void get_optimizer_state(OptimizerState<float>& s) override;
  void set_optimizer_state(const OptimizerState<float>& s) override;

  // The threads the next call spreads the networks over (the constructor's, else OpenBLAS's).
  int threads() const;

 private:
  using Network = OrchestratedBackend<BlasHostPrims>;

  // f(e, network e) for every network, spread over the threads (see network_parallel_backend.cpp
  // on how many and in which order); `batch`: the call's B, 0 when it has none. Throws the first
  // network's exception, in network order, once all have run.
  template <class F>
  void each(int64_t batch, const F& f);
  // Parameter-shaped sets (parameters, gradients, optimizer moments) cut into the networks' and
  // joined: the values of one network's array k (Params::arrays() order); a refusal naming `what`
  // unless p holds E networks; p as E one-network sets; E networks of zeros; network e's set
  // into its place in dst.
  int64_t per_network(int k) const;
  void check_sizes(const Params<float>& p, const char* what) const;
  static std::vector<Params<float>> split(const Params<float>& p, int64_t E);
  Params<float> zeros() const;
  void gather(Params<float>& dst, int64_t e, const Params<float>& src) const;
  // The E networks' arrays as `read` (get_params, read_gradients) reads each network's.
  Params<float> gathered(void (Backend<float>::*read)(Params<float>&));

  std::vector<std::unique_ptr<Network>> networks_;
  int threads_;  // 0: OpenBLAS's count
  int64_t E_, I_, H_, O_;
  // The last forward's shape (read_forward, backward's slices)
  int64_t T_ = 0, B_ = 0;
  bool u_per_network_ = false;
  std::vector<float> du_;  // network e's dL/du of a shared u, summed into the caller's in order
};

}  // namespace ctrnn::detail
