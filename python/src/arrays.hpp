#pragma once
// numpy arrays <-> ctrnn::Tensor. nanobind reads a numpy array's buffer in place; the library's
// calls take owning host Tensors, so an input is copied once into one (a memcpy, C++ side);
// outputs are moved into the returned numpy array without a copy.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>
#include <vector>

#include "ctrnn/params.hpp"
#include "ctrnn/tensor.hpp"

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

// Takes the tensor's storage (no copy).
template <class T>
NumpyArray<T> to_numpy(Tensor<T>&& t);
template <class T>
NumpyArray<T> to_numpy(std::vector<T>&& values, Shape shape);

// Every array of a Params as numpy arrays with their shapes (E leading), keyed by kParamNames.
nb::dict params_to_dict(const Params<float>& p);

}  // namespace ctrnn::python
