#pragma once
// Arrays between Python and the library. Data (inputs, targets, outputs, gradients) passes as
// views (ctrnn/view.hpp) of any DLPack array nanobind accepts (numpy, torch, CuPy; host or CUDA),
// read and written in place. Config arrays and parameter writes go through owning Tensors (one
// copy); parameters read back are moved into numpy arrays without a copy.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>
#include <utility>
#include <vector>

#include "ctrnn/params.hpp"
#include "ctrnn/tensor.hpp"
#include "ctrnn/view.hpp"

namespace ctrnn::python {

namespace nb = nanobind;

// A C-contiguous host array of T (the Python layer checks dtype, shape and contiguity first and
// names the argument; nanobind refuses anything else with a TypeError).
template <class T>
using HostArray = nb::ndarray<const T, nb::c_contig, nb::device::cpu>;
template <class T>
using NumpyArray = nb::ndarray<nb::numpy, T>;

template <class T>
Tensor<T> to_tensor(const HostArray<T>& a);

// Any array, of any dtype, on any device: an input (read only) and an output (written).
using InArray = nb::ndarray<nb::ro>;
using OutArray = nb::ndarray<>;

// A view of the array for argument `name`. A dtype other than float32/float64 or a device other
// than the CPU or CUDA raises TypeError naming it; the library checks the rest (its
// InvalidArgument becomes ctrnn.InvalidArgument, a ValueError).
View to_view(const InArray& a, const char* name);
View to_view(const OutArray& a, const char* name);

// ctrnn.torch's layout of an array as the library's (python/ctrnn/torch/_function.py hands its
// tensors over as they are, with no view operations of its own, which cost microseconds each in
// Python): with `transposed` the last two axes are swapped (a weight as torch's (post, pre) is the
// engine's (pre, post)); with E = 1 an array one axis short of `rank` gets the leading ensemble
// axis (size 1) that torch's one-network shapes leave out. Only the view's shape and strides
// change; the library checks the result against the shape it expects, naming the argument.
View from_torch_layout(View v, bool transposed, int64_t ensemble_size, size_t rank);

// The library takes dense row-major views; these bindings take host arrays of any strides too (a
// transposed numpy or torch view, say: ctrnn.torch hands over its weights and their gradients as
// transposed views of torch's (post, pre) layout). A strided host array goes through a dense copy
// made here: an input's before the call (input()), an output's written back after it (scatter(),
// once the call has returned). Dense arrays and device arrays pass as they are (the library
// refuses a strided device array, naming it).
class DenseCopies {
 public:
  View input(View v);
  View output(View v);
  void scatter();

 private:
  View dense_copy(const View& v);
  std::vector<std::vector<char>> storage_;
  std::vector<std::pair<View, View>> outputs_;  // (dense copy, the caller's strided array)
};

// A cudaStream_t given from Python as an integer (torch's .cuda_stream, CuPy's .ptr; 0: the
// default stream).
inline Stream to_stream(uintptr_t handle) { return Stream{reinterpret_cast<void*>(handle)}; }

// Takes the tensor's storage (no copy).
template <class T>
NumpyArray<T> to_numpy(Tensor<T>&& t);
template <class T>
NumpyArray<T> to_numpy(std::vector<T>&& values, Shape shape);

// Every array of a Params as numpy arrays with their shapes (E leading), keyed by kParamNames.
template <class T>
nb::dict params_to_dict(const Params<T>& p);

}  // namespace ctrnn::python
