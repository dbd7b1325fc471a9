// The built-in tasks (ctrnn/tasks.hpp): batch k of a task is a pure function of (seed, k).
#include <nanobind/stl/string.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/unique_ptr.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/tasks.hpp"

namespace ctrnn::python {

namespace {

nb::dict batch_to_dict(TaskBatch&& b) {
  nb::dict d;
  d["u"] = to_numpy(std::move(b.u));
  d["target"] = to_numpy(std::move(b.target));
  d["mask"] = b.mask.data.empty() ? nb::none() : nb::cast(to_numpy(std::move(b.mask)));
  const int64_t n = static_cast<int64_t>(b.label.size());
  d["label"] = n == 0 ? nb::none() : nb::cast(to_numpy(std::vector<int32_t>(b.label.begin(), b.label.end()), {n}));
  return d;
}

}  // namespace

void bind_tasks(nb::module_& m) {
  nb::class_<Task>(m, "Task")
      .def_prop_ro("name", &Task::name)
      .def_prop_ro("input_dim", &Task::input_dim)
      .def_prop_ro("output_dim", &Task::output_dim)
      .def_prop_ro("steps", &Task::steps)
      .def(
          "batch",
          [](const Task& t, int64_t batch_size, uint64_t seed, uint64_t index) {
            TaskBatch b;
            {
              nb::gil_scoped_release release;
              b = t.batch(batch_size, seed, index);
            }
            return batch_to_dict(std::move(b));
          },
          nb::arg("batch_size"), nb::arg("seed"), nb::arg("index"))
      .def(
          "accuracy",
          [](const Task& t, const HostArray<float>& target, const HostArray<int32_t>& label,
             std::optional<HostArray<float>> mask, const HostArray<float>& y) {
            TaskBatch b;
            b.target = to_tensor(target);
            if (mask) b.mask = to_tensor(*mask);
            b.label.assign(label.data(), label.data() + label.size());
            const Tensor<float> outputs = to_tensor(y);
            if (outputs.shape != b.target.shape)
              throw InvalidArgument("y", "the shape of the batch's target " + shape_to_string(b.target.shape),
                                    shape_to_string(outputs.shape));
            return decision_accuracy(b, outputs.ptr());
          },
          nb::arg("target"), nb::arg("label"), nb::arg("mask").none(), nb::arg("y"));

  m.def("make_task", &make_task, nb::arg("json_text"));
}

}  // namespace ctrnn::python
