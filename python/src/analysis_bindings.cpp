// ctrnn._core's dynamics analysis (ctrnn/analysis.hpp): find_fixed_points on a Network, state
// trajectories, sample_states, and the fixed-point record (FixedPointResult) with its file. The
// Python package ctrnn.analysis checks arguments first and wraps the results.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/analysis.hpp"
#include "ctrnn/error.hpp"

namespace ctrnn::python {

namespace {

// FixedPointOptions from keyword arguments (the names of its fields); an unknown name is refused.
FixedPointOptions make_options(const nb::dict& d) {
  FixedPointOptions o;
  static const std::pair<const char*, double FixedPointOptions::*> numbers[] = {
      {"tol_q", &FixedPointOptions::tol_q},     {"tol_dq", &FixedPointOptions::tol_dq},
      {"tol_unique", &FixedPointOptions::tol_unique}, {"outlier_distance_scale", &FixedPointOptions::outlier_distance_scale},
      {"max_q", &FixedPointOptions::max_q},     {"lr", &FixedPointOptions::lr},
      {"adam_epsilon", &FixedPointOptions::adam_epsilon}};
  for (auto [key, value] : d) {
    const std::string name = nb::cast<std::string>(key);
    bool known = false;
    if (name == "max_iters") o.max_iters = nb::cast<int64_t>(value), known = true;
    for (const auto& [field, member] : numbers)
      if (name == field) o.*member = nb::cast<double>(value), known = true;
    if (!known) {
      std::string all = "max_iters";
      for (const auto& n : numbers) all += std::string(", ") + n.first;
      throw InvalidArgument("option " + name, "one of " + all, "an unknown name");
    }
  }
  return o;
}

template <class T>
NumpyArray<T> copy_numpy(const std::vector<T>& v, Shape shape) {
  return to_numpy(std::vector<T>(v), std::move(shape));
}

nb::dict network_to_dict(const FixedPoints& f) {
  nb::dict d;
  const int64_t K = f.size();
  d["x_star"] = to_numpy(Tensor<double>(f.x_star));
  d["x_init"] = to_numpy(Tensor<double>(f.x_init));
  d["inputs"] = to_numpy(Tensor<double>(f.inputs));
  d["F_x_star"] = to_numpy(Tensor<double>(f.F_x_star));
  d["q_star"] = copy_numpy(f.q_star, {K});
  d["dq"] = copy_numpy(f.dq, {K});
  d["iterations"] = copy_numpy(f.iterations, {K});
  d["jacobians"] = to_numpy(Tensor<double>(f.jacobians));
  if (!f.stable.empty()) {
    d["eigenvalues_re"] = to_numpy(Tensor<double>(f.eigenvalues_re));
    d["eigenvalues_im"] = to_numpy(Tensor<double>(f.eigenvalues_im));
    d["eigenvectors_re"] = to_numpy(Tensor<double>(f.eigenvectors_re));
    d["eigenvectors_im"] = to_numpy(Tensor<double>(f.eigenvectors_im));
    d["stable"] = copy_numpy(f.stable, {K});
  }
  return d;
}

}  // namespace

void bind_analysis(nb::module_& m) {
  nb::class_<FixedPointResult>(m, "FixedPointResult")
      .def_ro("candidates", &FixedPointResult::candidates)
      .def("networks",
           [](const FixedPointResult& r) {
             nb::list out;
             for (const FixedPoints& f : r.networks) out.append(network_to_dict(f));
             return out;
           })
      .def("save",
           [](const FixedPointResult& r, const std::string& path) {
             nb::gil_scoped_release release;
             save_fixed_points(path, r);
           },
           nb::arg("path"));

  m.def("load_fixed_points",
        [](const std::string& path) {
          nb::gil_scoped_release release;
          return load_fixed_points(path);
        },
        nb::arg("path"));

  m.def("find_fixed_points",
        [](const Network& net, const HostArray<float>& states, const HostArray<float>& inputs, const nb::dict& options) {
          const FixedPointOptions o = make_options(options);
          const Tensor<float> x = to_tensor(states), u = to_tensor(inputs);
          nb::gil_scoped_release release;
          return find_fixed_points(net, x, u, o);
        },
        nb::arg("network"), nb::arg("states"), nb::arg("inputs"), nb::arg("options"));

  m.def("state_trajectories",
        [](const Network& net, const HostArray<float>& u) {
          const Tensor<float> in = to_tensor(u);
          Tensor<float> v;
          {
            nb::gil_scoped_release release;
            v = state_trajectories(net, in);
          }
          return to_numpy(std::move(v));
        },
        nb::arg("network"), nb::arg("u"));

  m.def("sample_states",
        [](const HostArray<float>& trajectories, int64_t n, double noise_scale, nb::object valid, uint64_t seed) {
          const Tensor<float> t = to_tensor(trajectories);
          Tensor<uint8_t> mask;
          const bool masked = !valid.is_none();
          if (masked) mask = to_tensor(nb::cast<HostArray<uint8_t>>(valid));
          return to_numpy(sample_states(t, n, noise_scale, masked ? &mask : nullptr, seed));
        },
        nb::arg("trajectories"), nb::arg("n"), nb::arg("noise_scale"), nb::arg("valid").none(), nb::arg("seed"));
}

}  // namespace ctrnn::python
