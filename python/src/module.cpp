// ctrnn._core: the C++ library for the Python package (python/ctrnn). Library exceptions become
// Python exceptions with the library's message: InvalidArgument -> ctrnn.InvalidArgument (a
// ValueError), FileError -> ctrnn.FileError (an OSError), StateError -> ctrnn.StateError (a
// RuntimeError), NonFiniteLoss -> ctrnn.NonFiniteLoss (a StateError).
#include <nanobind/stl/string.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "ctrnn/device.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/trainer.hpp"
#include "ctrnn/version.hpp"

NB_MODULE(_core, m) {
  namespace nb = nanobind;
  using namespace ctrnn;
  // Derived classes after their bases: nanobind tries the last registered translator first.
  nb::exception<InvalidArgument>(m, "InvalidArgument", PyExc_ValueError);
  nb::exception<FileError>(m, "FileError", PyExc_OSError);
  auto state = nb::exception<StateError>(m, "StateError", PyExc_RuntimeError);
  nb::exception<NonFiniteLoss>(m, "NonFiniteLoss", state.ptr());

  m.def("version", [] { return std::string(version()); });
  m.def("cuda_available", &cuda_available);
  // The CUDA version the extension was built with ("" without the CUDA backend).
  m.attr("cuda_version") = CTRNN_PYTHON_CUDA_VERSION;
  // The OpenBLAS of the CPU backend: "PYPI" (scipy-openblas32), "SYSTEM", or "" (the plain reference).
  m.attr("openblas") = CTRNN_PYTHON_OPENBLAS;

  python::bind_network(m);
  python::bind_trainer(m);
  python::bind_checkpoint(m);
  python::bind_tasks(m);
  python::bind_analysis(m);
  python::bind_sweep(m);
}
