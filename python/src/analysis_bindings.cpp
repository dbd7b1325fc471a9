// ctrnn._core's dynamics analysis (ctrnn/analysis.hpp): find_fixed_points on a Network, state
// trajectories, sample_states, and the fixed-point record (FixedPointResult) with its file. The
// Python package ctrnn.analysis checks arguments first and wraps the results.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/analysis.hpp"
#include "ctrnn/error.hpp"

namespace ctrnn::python {

namespace {

template <class T>
T option(const nb::dict& options, const char* name, T fallback) {
  return options.contains(name) ? nb::cast<T>(options[name]) : fallback;
}

FixedPointOptions make_options(const nb::dict& d) {
  for (auto [key, value] : d) {
    static const char* const known[] = {"tol_q", "tol_dq", "max_iters", "tol_unique", "outlier_distance_scale",
                                        "max_q", "lr", "adam_epsilon"};
    const std::string k = nb::cast<std::string>(key);
    bool ok = false;
    for (const char* name : known) ok = ok || k == name;
    if (!ok) throw InvalidArgument("options", "one of tol_q, tol_dq, max_iters, tol_unique, outlier_distance_scale, max_q, lr, adam_epsilon", "'" + k + "'");
  }
  FixedPointOptions o;
  o.tol_q = option(d, "tol_q", o.tol_q);
  o.tol_dq = option(d, "tol_dq", o.tol_dq);
  o.max_iters = option(d, "max_iters", o.max_iters);
  o.tol_unique = option(d, "tol_unique", o.tol_unique);
  o.outlier_distance_scale = option(d, "outlier_distance_scale", o.outlier_distance_scale);
  o.max_q = option(d, "max_q", o.max_q);
  o.lr = option(d, "lr", o.lr);
  o.adam_epsilon = option(d, "adam_epsilon", o.adam_epsilon);
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
