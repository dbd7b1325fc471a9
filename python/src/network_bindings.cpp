// ctrnn._core.Network: the library's Network (float32) with numpy in and out. The Python class
// ctrnn.CTRNN wraps it with nn4n's constructor and checks arguments first.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <sstream>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/config_json.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/network.hpp"
#include "ctrnn/safetensors.hpp"

namespace ctrnn::python {

namespace {

// A Config from the JSON form of config_json.hpp; arrays are given separately (name -> float64
// array) and referenced from the JSON as {"tensor": NAME}, so that large masks need no JSON text.
Config make_config(const std::string& json_text, const nb::dict& arrays) {
  SafetensorsFile holder;
  for (auto [name, value] : arrays)
    holder.put(nb::cast<std::string>(name), to_tensor(nb::cast<HostArray<double>>(value)));
  holder.source = "<arrays given to ctrnn.CTRNN>";
  return config_from_json(json_text, ".", &holder);
}

Layer layer_of(int index) {
  if (index < 0 || index > 2) throw InvalidArgument("layer", "0 (input), 1 (hidden) or 2 (readout)", std::to_string(index));
  return static_cast<Layer>(index);
}

template <class T>
nb::object optional_numpy(const std::optional<Tensor<T>>& t) {
  if (!t) return nb::none();
  return nb::cast(to_numpy(Tensor<T>(*t)));
}

template <class T>
nb::dict layer_to_dict(LayerView<T>&& v) {
  nb::dict d;
  d["name"] = to_string(v.layer);
  d["pre"] = v.pre;
  d["post"] = v.post;
  d["weight"] = to_numpy(std::move(v.weight));
  d["bias"] = to_numpy(std::move(v.bias));
  d["weight_learnable"] = v.weight_learnable;
  d["bias_learnable"] = v.bias_learnable;
  d["sparsity_mask"] = optional_numpy(v.sparsity_mask);
  d["ei_mask"] = optional_numpy(v.ei_mask);
  d["plasticity"] = to_numpy(std::move(v.plasticity));
  d["growth_probability"] = optional_numpy(v.growth_probability);
  return d;
}

// Parameter array k (or its gradient: `what` names it) as the library's view. In ctrnn.torch's
// layout a weight is transposed and, for E = 1, any array lacks the ensemble axis; a shape other
// than that is refused here, naming the shape in that layout (the library would name the view's).
View param_view(const View& v, int k, bool torch_layout, const Config& c, const std::string& what) {
  if (!torch_layout) return v;
  const bool weight = k < kBIn;
  const View out = from_torch_layout(v, weight, c.ensemble_size, weight ? 3 : 2);
  Shape want = param_shape(k, c);
  if (out.shape == want) return out;
  if (weight) std::swap(want[1], want[2]);
  if (c.ensemble_size == 1) want.erase(want.begin());
  throw InvalidArgument(what + kParamNames[k],
                        "shape " + shape_to_string(want) + (weight ? " (torch's (post, pre) layout)" : ""),
                        shape_to_string(v.shape));
}

// An (E, T, B, n) series (y, r, dy, dr) as the library's view: in ctrnn.torch's layout (T, B, n)
// for one network.
template <class Net>
View series_view(const View& v, bool torch_layout, const Net& n) {
  return torch_layout ? from_torch_layout(v, false, n.ensemble_size(), 4) : v;
}

template <class T>
void bind_network_class(nb::module_& m, const char* name) {
  using Net = BasicNetwork<T>;
  nb::class_<Net>(m, name)
      .def("__init__",
           [](Net* self, const std::string& config_json, const nb::dict& arrays, const std::string& device,
              const std::string& math) {
             const Device d = parse_device(device);
             if (math != "fp32" && math != "tf32") throw InvalidArgument("math", "\"fp32\" or \"tf32\"", "\"" + math + "\"");
             Config c = make_config(config_json, arrays);
             nb::gil_scoped_release release;
             new (self) Net(std::move(c), d, math == "tf32" ? MathMode::TF32 : MathMode::FP32);
           },
           nb::arg("config_json"), nb::arg("arrays"), nb::arg("device") = "auto", nb::arg("math") = "fp32")
      .def_prop_ro("device", [](const Net& n) { return to_string(n.device()); })
      .def_prop_ro("device_description", &Net::device_description)
      .def_prop_ro("ensemble_size", &Net::ensemble_size)
      .def_prop_ro("dims", [](const Net& n) { return std::make_tuple(n.config().dims[0], n.config().dims[1], n.config().dims[2]); })
      // alpha = dt / tau: a float when one value for all, else (E, H) (docs/contract.md "Parameters");
      // learned (learn_tau), the network's alpha now, (E, H)
      .def_prop_ro("alpha",
                   [](const Net& n) -> nb::object {
                     const Config& c = n.config();
                     if (c.learn_tau) return nb::cast(to_numpy(std::vector<T>(n.params().alpha), {c.ensemble_size, c.dims[1]}));
                     if (!c.tau.per_network() && !c.tau.per_neuron()) return nb::float_(c.alpha()[0]);
                     return nb::cast(to_numpy(c.alpha(), {c.ensemble_size, c.dims[1]}));
                   })
      // the lower bound of a learned alpha, dt / tau_max (Config::alpha_min)
      .def_prop_ro("alpha_min", [](const Net& n) { return n.config().alpha_min(); })
      .def_prop_ro("activation", [](const Net& n) { return to_string(n.config().activation); })
      .def_prop_ro("init_state", [](const Net& n) { return to_string(n.config().init_state); })
      .def_prop_ro("seed", [](const Net& n) { return n.config().seed; })
      .def_prop_ro("training", [](const Net& n) { return n.mode() == Mode::Train; })
      .def("train", &Net::train)
      .def("eval", &Net::eval)
      // Views in and out (python/ctrnn/_arrays.py allocates the outputs where the input lives);
      // host arrays of any strides (arrays.hpp's DenseCopies). torch_layout: the arrays in
      // ctrnn.torch's layout (arrays.hpp's from_torch_layout): weights and their gradients as
      // (post, pre), no ensemble axis when E = 1.
      .def("forward",
           [](Net& n, const InArray& u, const OutArray& y, const OutArray& r, uintptr_t stream, bool torch_layout) {
             DenseCopies dense;
             const View uv = dense.input(to_view(u, "u")),
                        yv = dense.output(series_view(to_view(y, "y"), torch_layout, n)),
                        rv = dense.output(series_view(to_view(r, "r"), torch_layout, n));
             nb::gil_scoped_release release;
             n.forward(uv, &yv, &rv, to_stream(stream));
             dense.scatter();
           },
           nb::arg("u"), nb::arg("y"), nb::arg("r"), nb::arg("stream") = 0, nb::arg("torch_layout") = false)
      .def("backward",
           [](Net& n, const InArray& dy, std::optional<InArray> dr, const std::vector<std::optional<OutArray>>& grads,
              uintptr_t stream, std::optional<OutArray> du, bool torch_layout) {
             if (grads.size() != kNumParamArrays)
               throw InvalidArgument("gradients",
                                     std::to_string(kNumParamArrays) + " arrays or None (param_names order)",
                                     std::to_string(grads.size()));
             DenseCopies dense;
             const View gy = dense.input(series_view(to_view(dy, "dy"), torch_layout, n));
             const View gr = dr ? dense.input(series_view(to_view(*dr, "dr"), torch_layout, n)) : View{};
             const View gu = du ? dense.output(to_view(*du, "du")) : View{};
             std::array<View, kNumParamArrays> views;
             std::array<const View*, kNumParamArrays> out{};  // None: that gradient is not written
             for (int k = 0; k < kNumParamArrays; ++k)
               if (grads[k]) {
                 views[k] = dense.output(
                     param_view(to_view(*grads[k], kParamNames[k]), k, torch_layout, n.config(), "gradient "));
                 out[k] = &views[k];
               }
             nb::gil_scoped_release release;
             n.backward(gy, dr ? &gr : nullptr, out, to_stream(stream), du ? &gu : nullptr);
             dense.scatter();
           },
           nb::arg("dy"), nb::arg("dr").none(), nb::arg("gradients"), nb::arg("stream") = 0,
           nb::arg("du").none() = nb::none(), nb::arg("torch_layout") = false)
      // Parameter arrays from views (param_names order; None keeps an array), read in place (host
      // arrays of any strides: DenseCopies; torch_layout as forward's).
      .def("set_params",
           [](Net& n, const std::vector<std::optional<InArray>>& arrays, uintptr_t stream, bool torch_layout) {
             if (arrays.size() != kNumParamArrays)
               throw InvalidArgument("params", std::to_string(kNumParamArrays) + " arrays or None (param_names order)",
                                     std::to_string(arrays.size()));
             DenseCopies dense;
             std::array<View, kNumParamArrays> views;
             std::array<const View*, kNumParamArrays> src{};
             for (int k = 0; k < kNumParamArrays; ++k)
               if (arrays[k]) {
                 views[k] = dense.input(
                     param_view(to_view(*arrays[k], kParamNames[k]), k, torch_layout, n.config(), "parameter "));
                 src[k] = &views[k];
               }
             nb::gil_scoped_release release;
             n.set_params(src, to_stream(stream));
           },
           nb::arg("params"), nb::arg("stream") = 0, nb::arg("torch_layout") = false)
      // The parameter arrays' names and shapes, in ParamArray order: {name: shape}.
      .def("param_shapes",
           [](const Net& n) {
             nb::dict d;
             for (int k = 0; k < kNumParamArrays; ++k) d[kParamNames[k]] = nb::tuple(nb::cast(param_shape(k, n.config())));
             return d;
           })
      .def("input_shape", [](const Net& n) { return nb::tuple(nb::cast(n.input_shape())); })
      .def("last_outputs", [](const Net& n) { return to_numpy(n.last_outputs()); })
      .def("layers",
           [](const Net& n) {
             auto views = n.layers();
             nb::list out;
             for (auto& v : views) out.append(layer_to_dict(std::move(v)));
             return out;
           })
      .def("params", [](const Net& n) { return params_to_dict(n.params()); })
      .def("set_weight", [](Net& n, int layer, const HostArray<T>& w) { n.set_weight(layer_of(layer), to_tensor(w)); },
           nb::arg("layer"), nb::arg("weight"))
      .def("set_bias", [](Net& n, int layer, const HostArray<T>& b) { n.set_bias(layer_of(layer), to_tensor(b)); },
           nb::arg("layer"), nb::arg("bias"))
      .def("set_initial_state", [](Net& n, const HostArray<T>& h0) { n.set_initial_state(to_tensor(h0)); },
           nb::arg("h0"))
      .def("bias_learnable", [](const Net& n, int layer) { return n.bias_learnable(layer_of(layer)); })
      .def_prop_ro("h0_learnable", &Net::h0_learnable)
      .def("reset_state", &Net::reset_state)
      // keep mode: the carried v_T (E, B, H), or None when none is carried.
      .def("kept_state",
           [](const Net& n) -> nb::object {
             Tensor<T> v = n.kept_state();
             if (v.numel() == 0) return nb::none();
             return nb::cast(to_numpy(std::move(v)));
           })
      .def("set_kept_state", [](Net& n, const HostArray<T>& v) { n.set_kept_state(to_tensor(v)); }, nb::arg("v"))
      .def("print_layers",
           [](const Net& n) {
             std::ostringstream os;
             n.print_layers(os);
             return os.str();
           })
      .def_prop_rw("forward_calls", &Net::forward_calls, &Net::set_forward_calls);
}

}  // namespace

// Network (float32: the CPU and CUDA backends) and DoubleNetwork (float64: the CPU reference,
// for gradient checks and torch's float64).
void bind_network(nb::module_& m) {
  bind_network_class<float>(m, "Network");
  bind_network_class<double>(m, "DoubleNetwork");
}

}  // namespace ctrnn::python
