// ctrnn._core.Trainer: the library's Trainer on a _core.Network. Steps release the GIL.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <optional>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/run_folder.hpp"
#include "ctrnn/trainer.hpp"

namespace ctrnn::python {

namespace {

// The per-network loss terms as numpy arrays of shape (E): {"mse", "in", ..., "total", "grad_norm"},
// and after a training step "diverged", a list of E bools (training.py makes it an array).
nb::dict report_to_dict(LossReport&& r) {
  const int64_t E = static_cast<int64_t>(r.total.size());
  nb::dict d;
  for (int k = 0; k < kNumLossTerms; ++k) {
    std::vector<double> term(E);
    for (int64_t e = 0; e < E; ++e) term[e] = r.terms[e][k];
    d[kLossTermNames[k]] = to_numpy(std::move(term), {E});
  }
  d["total"] = to_numpy(std::move(r.total), {E});
  if (!r.grad_norm.empty()) d["grad_norm"] = to_numpy(std::move(r.grad_norm), {E});
  if (!r.diverged.empty()) {
    nb::list diverged;
    for (bool x : r.diverged) diverged.append(x);
    d["diverged"] = diverged;
  }
  return d;
}

using StepFn = LossReport (Trainer::*)(const View&, const View&, const View*, Stream);

template <StepFn fn>
nb::dict run(Trainer& t, const InArray& u, const InArray& target, const std::optional<InArray>& mask, uintptr_t stream) {
  const View uv = to_view(u, "u"), tv = to_view(target, "target");
  const View mv = mask ? to_view(*mask, "mask") : View{};
  LossReport r;
  {
    nb::gil_scoped_release release;
    r = (t.*fn)(uv, tv, mask ? &mv : nullptr, to_stream(stream));
  }
  return report_to_dict(std::move(r));
}

// Trainer.fit(out=...)'s output: the CLI's run folder and metrics.csv (ctrnn/run_folder.hpp),
// so both follow one policy and write one format. close() releases the folder's lock.
struct RunOutput {
  std::optional<RunFolder> folder;
  std::optional<MetricsCsv> metrics;

  const RunFolder& open() const {
    if (!folder) throw StateError("ctrnn: the run's output folder is closed");
    return *folder;
  }
};

}  // namespace

PerNetwork to_per_network(nb::handle v, const std::string& name) {
  const std::string expected = "a number, or ctrnn.per_network([one value per network])";
  if (nb::isinstance<nb::float_>(v) || nb::isinstance<nb::int_>(v)) return nb::cast<double>(v);
  if (nb::isinstance<nb::dict>(v)) {
    const nb::dict d = nb::borrow<nb::dict>(v);
    if (d.size() == 1 && d.contains("per_network")) {
      std::vector<double> values;
      try {
        for (nb::handle x : d["per_network"]) values.push_back(nb::cast<double>(x));
      } catch (const std::exception&) {
        throw InvalidArgument(name, expected, "a per_network entry that is not a list of numbers");
      }
      if (values.empty()) throw InvalidArgument(name, expected, "an empty per_network list");
      return PerNetwork::each(std::move(values));
    }
  }
  try {
    return nb::cast<double>(v);  // numpy scalars
  } catch (const std::exception&) {
    throw InvalidArgument(name, expected, nb::type_name(v.type()).c_str());
  }
}

OptimizerConfig make_optimizer(const std::string& kind, nb::handle lr, double beta1, double beta2, double eps,
                               nb::handle momentum, nb::handle weight_decay, nb::handle clip) {
  OptimizerConfig o;
  o.kind = parse_optimizer(kind);
  o.lr = to_per_network(lr, "lr"), o.beta1 = beta1, o.beta2 = beta2, o.eps = eps;
  o.momentum = to_per_network(momentum, "momentum"), o.weight_decay = to_per_network(weight_decay, "weight_decay");
  o.clip_grad_norm = to_per_network(clip, "clip");
  return o;
}

LossWeights make_loss_weights(const nb::dict& lambdas) {
  LossWeights w;
  for (auto [key, value] : lambdas) {
    const std::string name = nb::cast<std::string>(key);
    int k = 0;
    while (k < kNumLossTerms && name != kLossTermNames[k]) ++k;
    if (k == kNumLossTerms)
      throw InvalidArgument("loss", "keys mse, in, hid, out, fr, fr_sd, fr_cv", "\"" + name + "\"");
    w.lambda[k] = to_per_network(value, "lambda_" + name);
  }
  return w;
}

void bind_trainer(nb::module_& m) {
  nb::class_<Trainer>(m, "Trainer")
      .def("__init__",
           [](Trainer* self, Network& net, const std::string& optimizer, nb::handle lr, double beta1, double beta2,
              double eps, nb::handle momentum, nb::handle weight_decay, nb::handle clip, const nb::dict& lambdas) {
             new (self) Trainer(net, make_optimizer(optimizer, lr, beta1, beta2, eps, momentum, weight_decay, clip),
                                make_loss_weights(lambdas));
           },
           nb::arg("network"), nb::arg("optimizer"), nb::arg("lr"), nb::arg("beta1"), nb::arg("beta2"),
           nb::arg("eps"), nb::arg("momentum"), nb::arg("weight_decay"), nb::arg("clip"), nb::arg("lambdas"),
           nb::keep_alive<1, 2>())  // the trainer holds a reference to the network
      .def("step", &run<&Trainer::step>, nb::arg("u"), nb::arg("target"), nb::arg("mask") = nb::none(),
           nb::arg("stream") = 0)
      .def("evaluate", &run<&Trainer::evaluate>, nb::arg("u"), nb::arg("target"), nb::arg("mask") = nb::none(),
           nb::arg("stream") = 0)
      .def_prop_ro("steps_done", &Trainer::steps_done)
      .def_prop_ro("diverged", [](const Trainer& t) {
        nb::list out;
        for (bool x : t.diverged()) out.append(x);
        return out;
      })
      // For bench/bench_python_step.py: seconds for n steps called from C++ on tensors copied once,
      // i.e. the library's own Trainer::step time without any binding or Python work.
      .def("_time_cpp_steps",
           [](Trainer& t, const HostArray<float>& u, const HostArray<float>& target, int64_t n) {
             const Tensor<float> in = to_tensor(u), tgt = to_tensor(target);
             nb::gil_scoped_release release;
             const auto start = std::chrono::steady_clock::now();
             for (int64_t i = 0; i < n; ++i) t.step(in, tgt);
             return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
           },
           nb::arg("u"), nb::arg("target"), nb::arg("n"));

  nb::class_<RunOutput>(m, "RunOutput")
      .def("__init__",
           [](RunOutput* self, const std::string& dir, const std::string& resumed, bool overwrite, int64_t first_step) {
             new (self) RunOutput();
             self->folder.emplace(dir, resumed, overwrite, "out");
             self->metrics.emplace(*self->folder, first_step);
           },
           nb::arg("dir"), nb::arg("resumed"), nb::arg("overwrite"), nb::arg("first_step"))
      .def_prop_ro("checkpoint", [](const RunOutput& r) { return r.open().checkpoint(); })
      .def("write_metrics",
           [](RunOutput& r, int64_t step, std::vector<double> total, std::vector<std::vector<double>> terms,
              std::vector<double> grad_norm, std::vector<bool> diverged, std::vector<double> val_loss,
              double elapsed_s) {
             r.open();
             LossReport report;
             report.total = std::move(total);
             for (const auto& t : terms) {
               if (t.size() != size_t(kNumLossTerms)) throw InvalidArgument("terms", "one value per loss term");
               std::array<double, kNumLossTerms> row{};
               std::copy(t.begin(), t.end(), row.begin());
               report.terms.push_back(row);
             }
             report.grad_norm = std::move(grad_norm);
             report.diverged = std::move(diverged);
             r.metrics->write(step, report, {std::move(val_loss), {}}, elapsed_s);
           },
           nb::arg("step"), nb::arg("total"), nb::arg("terms"), nb::arg("grad_norm"), nb::arg("diverged"),
           nb::arg("val_loss"), nb::arg("elapsed_s"))
      .def("save",
           [](const RunOutput& r, const Network& net, const Trainer& t) {
             const RunFolder& folder = r.open();
             nb::gil_scoped_release release;
             folder.save(net, t);
           },
           nb::arg("network"), nb::arg("trainer"))
      .def("close", [](RunOutput& r) {
        r.metrics.reset();
        r.folder.reset();
      });
}

}  // namespace ctrnn::python
