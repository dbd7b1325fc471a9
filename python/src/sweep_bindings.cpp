// Sweeps and training runs from Python (ctrnn/sweep.hpp, ctrnn/training_run.hpp): what
// ctrnn.sweep runs its packs with, locally or as Ray tasks. The engine's work runs with the GIL
// released; results come back as dicts and lists.
#include <nanobind/stl/string.h>

#include <csignal>
#include <iostream>

#include "bindings.hpp"
#include "ctrnn/sweep.hpp"
#include "ctrnn/training_run.hpp"

namespace ctrnn::python {

namespace nb = nanobind;

namespace {

nb::object parse_json(const std::string& text) { return nb::module_::import_("json").attr("loads")(text); }

nb::dict network_dict(const SweepNetwork& n) {
  nb::dict d;
  d["index"] = n.index;
  d["point"] = n.point;
  d["seed"] = n.seed;
  d["pack"] = n.pack;
  d["index_in_pack"] = n.index_in_pack;
  nb::dict values;
  for (const auto& [name, v] : n.values) values[name.c_str()] = parse_json(v);
  d["values"] = values;
  return d;
}

template <class T>
nb::list list_of(const std::vector<T>& v) {
  nb::list l;
  for (const T& x : v) l.append(x);
  return l;
}

const char* status_name(TrainRunResult::Status s) {
  switch (s) {
    case TrainRunResult::Status::Finished: return "finished";
    case TrainRunResult::Status::AllDiverged: return "all_diverged";
    case TrainRunResult::Status::Stopped: return "stopped";
  }
  return "";
}

}  // namespace

void bind_sweep(nb::module_& m) {
  // The lock ctrnn.sweep.run holds on its folder while it runs the packs (plan_sweep takes it).
  nb::class_<SweepFolderLock>(m, "SweepFolderLock").def(nb::init<>()).def("release", &SweepFolderLock::release);

  m.def(
      "plan_sweep",
      [](const std::string& spec_text, const std::string& base_dir, const std::string& out, SweepFolderLock* lock) {
        SweepPlan plan;
        {
          nb::gil_scoped_release release;
          plan = plan_sweep(spec_text, base_dir, out, lock);
        }
        nb::list packs;
        for (const SweepPack& p : plan.packs) {
          nb::dict d;
          d["index"] = p.index;
          d["dir"] = p.dir;
          d["config"] = p.config_text;
          nb::list networks;
          for (const SweepNetwork& n : p.networks) networks.append(network_dict(n));
          d["networks"] = networks;
          packs.append(d);
        }
        return packs;
      },
      nb::arg("spec_text"), nb::arg("base_dir"), nb::arg("out"), nb::arg("lock").none() = nb::none());

  // One training run as `ctrnn train` runs it. resume: continue the folder's own checkpoint when
  // it has one, else start fresh. Ctrl-C (in the main thread) stops it after the step under way
  // with its checkpoint saved (status "stopped").
  m.def(
      "train_run",
      [](const std::string& config_text, const std::string& base_dir, const std::string& out, bool resume,
         int threads, bool quiet) {
        TrainRunOptions o;
        o.config_text = config_text;
        o.base_dir = base_dir;
        o.out = out;
        o.out_option = "out";
        o.resume_if_present = resume;
        o.threads = threads;
        if (!quiet) {
          o.on_progress = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
          o.on_warning = [](const std::string& line) { std::cerr << "ctrnn: " << line << "\n" << std::flush; };
        }
        o.stop_requested = [] {
          nb::gil_scoped_acquire acquire;
          if (PyErr_CheckSignals() == 0) return 0;
          PyErr_Clear();
          return int(SIGINT);
        };
        TrainRunResult r;
        {
          nb::gil_scoped_release release;
          r = train_run(o);
        }
        nb::dict d;
        d["status"] = status_name(r.status);
        d["message"] = r.message;
        d["stop_signal"] = r.stop_signal;
        d["first_step"] = r.first_step;
        d["steps_done"] = r.steps_done;
        d["final_loss"] = list_of(r.final_loss);
        d["diverged"] = list_of(std::vector<int>(r.diverged.begin(), r.diverged.end()));
        d["eval_loss"] = list_of(r.eval_loss);
        d["eval_accuracy"] = list_of(r.eval_accuracy);
        d["checkpoint"] = r.checkpoint;
        d["metrics"] = r.metrics;
        return d;
      },
      nb::arg("config_text"), nb::arg("base_dir"), nb::arg("out"), nb::arg("resume") = true, nb::arg("threads") = 0,
      nb::arg("quiet") = true);

  m.def(
      "collect_sweep",
      [](const std::string& out) {
        std::vector<SweepResult> rows;
        {
          nb::gil_scoped_release release;
          rows = collect_sweep(out);
        }
        nb::list l;
        for (const SweepResult& r : rows) {
          nb::dict d;
          d["network"] = r.network.index;
          d["pack"] = r.network.pack;
          d["index_in_pack"] = r.network.index_in_pack;
          d["point"] = r.network.point;
          d["seed"] = r.network.seed;
          for (const auto& [name, v] : r.network.values) d[name.c_str()] = parse_json(v);
          d["steps"] = r.steps;
          d["steps_total"] = r.steps_total;
          d["final_loss"] = r.final_loss;
          d["val_loss"] = r.val_loss;
          d["val_accuracy"] = r.val_accuracy;
          d["status"] = r.status;
          l.append(d);
        }
        return l;
      },
      nb::arg("out"));

  m.def(
      "extract_network",
      [](const std::string& checkpoint, int64_t network, const std::string& out, bool overwrite) {
        nb::gil_scoped_release release;
        extract_network(checkpoint, network, out, overwrite);
      },
      nb::arg("checkpoint"), nb::arg("network"), nb::arg("out"), nb::arg("overwrite") = false);

  m.def("record_pack_outcome", &record_pack_outcome, nb::arg("pack_dir"), nb::arg("status"), nb::arg("message"));
  m.def("clear_pack_outcome", &clear_pack_outcome, nb::arg("pack_dir"));
}

}  // namespace ctrnn::python
