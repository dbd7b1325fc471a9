// Checkpoints from Python: the same safetensors files as the CLI's (ctrnn/checkpoint.hpp).
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <memory>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/checkpoint.hpp"

namespace ctrnn::python {

void bind_checkpoint(nb::module_& m) {
  m.def(
      "save_checkpoint",
      [](const std::string& path, const Network& net, const Trainer* trainer) {
        nb::gil_scoped_release release;
        save_checkpoint(path, net, trainer);
      },
      nb::arg("path"), nb::arg("network"), nb::arg("trainer") = nb::none());

  // A loaded checkpoint: take_network() once, then make_trainer(network) when it holds a trainer.
  nb::class_<Checkpoint>(m, "Checkpoint")
      .def_ro("metadata", &Checkpoint::metadata)
      .def_prop_ro("has_trainer", [](const Checkpoint& c) { return c.trainer_state.has_value(); })
      .def("take_network", [](Checkpoint& c) { return std::move(c.network); })
      .def(
          "make_trainer",
          [](Checkpoint& c, Network& net) {
            if (!c.trainer_state) throw StateError("ctrnn: the checkpoint holds no trainer state");
            auto t = std::make_unique<Trainer>(net, c.optimizer, c.loss_weights);
            t->restore(*c.trainer_state);
            return t.release();
          },
          nb::arg("network"), nb::keep_alive<0, 2>(), nb::rv_policy::take_ownership);

  m.def(
      "load_checkpoint",
      [](const std::string& path, const std::string& device) {
        const Device d = parse_device(device);
        nb::gil_scoped_release release;
        return new Checkpoint(load_checkpoint(path, d));
      },
      nb::arg("path"), nb::arg("device") = "auto", nb::rv_policy::take_ownership);
}

}  // namespace ctrnn::python
