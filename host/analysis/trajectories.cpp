// state_trajectories and sample_states: where the finder's candidates come from.
#include <cmath>
#include <string>
#include <vector>

#include "ctrnn/analysis.hpp"
#include "ctrnn/error.hpp"
#include "double_network.hpp"
#include "kernels/philox.hpp"
#include "reference/ctrnn_reference.hpp"
#include "tensor_checks.hpp"

namespace ctrnn {

template <class T>
Tensor<T> state_trajectories(const BasicNetwork<T>& net, const Tensor<T>& u) {
  const Config& c = net.config();
  const int64_t E = c.ensemble_size, I = c.dims[0], H = c.dims[1];
  if (Tensor<T>::count(u.shape) != u.numel() || (u.rank() != 3 && u.rank() != 4) || u.shape.back() != I ||
      (u.rank() == 4 && u.shape[0] != E) || u.shape[u.rank() - 3] < 1 || u.shape[u.rank() - 2] < 1)
    throw InvalidArgument("inputs", "shape (T, B, " + std::to_string(I) + ") or (" + std::to_string(E) + ", T, B, " +
                                        std::to_string(I) + ") with T, B >= 1",
                          shape_to_string(u.shape));
  detail::check_finite(u, "inputs");
  const bool per_network = u.rank() == 4;
  const int64_t T_ = u.shape[u.rank() - 3], B = u.shape[u.rank() - 2];
  const Params<T>& p = net.params();
  const Dynamics d = net.dynamics();
  const bool learned_h0 = c.init_state == InitState::Learn;
  Tensor<T> out({E, T_, B, H});
  std::vector<double> v(size_t(B * H)), a(size_t(B * H));
  for (int64_t e = 0; e < E; ++e) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) v[size_t(b * H + h)] = learned_h0 ? double(p.h0[size_t(e * H + h)]) : 0.0;
    for (int64_t t = 0; t < T_; ++t) {
      const T* ut = reference::input_at(u.ptr(), per_network, e, t, T_, B, I);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) {
          double acc = double(p.b_hid[size_t(e * H + j)]) + double(p.b_in[size_t(e * H + j)]);
          for (int64_t i = 0; i < H; ++i) {
            const double r = reference::activate(d.activation, v[size_t(b * H + i)]);
            acc += r * double(p.w_hid[size_t((e * H + i) * H + j)]);
          }
          for (int64_t i = 0; i < I; ++i) acc += double(ut[b * I + i]) * double(p.w_in[size_t((e * I + i) * H + j)]);
          a[size_t(b * H + j)] = acc;
        }
      for (int64_t k = 0; k < B * H; ++k) {
        const double alpha = double(p.alpha[size_t(e * H + k % H)]);
        v[size_t(k)] = (1.0 - alpha) * v[size_t(k)] + alpha * a[size_t(k)];
        out.data[size_t(((e * T_ + t) * B) * H + k)] = T(v[size_t(k)]);
      }
    }
  }
  return out;
}

template Tensor<float> state_trajectories<float>(const Network&, const Tensor<float>&);
template Tensor<double> state_trajectories<double>(const BasicNetwork<double>&, const Tensor<double>&);

Tensor<float> sample_states(const Tensor<float>& trajectories, int64_t n, double noise_scale,
                            const Tensor<uint8_t>* valid, uint64_t seed) {
  const Shape& s = trajectories.shape;
  if (Tensor<float>::count(s) != trajectories.numel() || (s.size() != 3 && s.size() != 4))
    throw InvalidArgument("trajectories", "shape (T, B, H) or (E, T, B, H)", shape_to_string(s));
  if (n < 1) throw InvalidArgument("n", "at least 1 state to draw", std::to_string(n));
  if (!(noise_scale >= 0) || !std::isfinite(noise_scale))
    throw InvalidArgument("noise_scale", "a finite number >= 0", std::to_string(noise_scale));
  const bool ensemble = s.size() == 4;
  const int64_t E = ensemble ? s[0] : 1, T_ = s[s.size() - 3], B = s[s.size() - 2], H = s.back();
  if (valid && valid->shape != Shape{T_, B})
    throw InvalidArgument("valid", "shape " + shape_to_string({T_, B}) + " (time, trial) of the trajectories",
                          shape_to_string(valid->shape));
  std::vector<int64_t> allowed;  // flat (t, b) indices a state may be drawn from
  for (int64_t k = 0; k < T_ * B; ++k)
    if (!valid || valid->data[size_t(k)] != 0) allowed.push_back(k);
  if (allowed.empty()) throw InvalidArgument("valid", "at least one (time, trial) to draw from", "none");
  Tensor<float> out(ensemble ? Shape{E, n, H} : Shape{n, H});
  for (int64_t e = 0; e < E; ++e) {
    // Element k of one sub-stream picks state k (a uniform of 24 random bits), element k H + h of
    // another is the noise of its neuron h.
    const RandomStream pick(seed, RandomPurpose::AnalysisSamples, uint32_t(e), 0);
    const RandomStream noise(seed, RandomPurpose::AnalysisSamples, uint32_t(e), 1);
    for (int64_t k = 0; k < n; ++k) {
      const double u = double(pick.uniform(uint32_t(k)));
      const int64_t at = allowed[std::min(size_t(u * double(allowed.size())), allowed.size() - 1)];
      const float* src = &trajectories.data[size_t((e * T_ * B + at) * H)];
      for (int64_t h = 0; h < H; ++h) {
        float x = src[h];
        if (noise_scale > 0) x += float(noise_scale) * noise.normal(uint32_t(k * H + h));
        out.data[size_t((e * n + k) * H + h)] = x;
      }
    }
  }
  detail::check_finite(out, "trajectories");
  return out;
}

}  // namespace ctrnn
