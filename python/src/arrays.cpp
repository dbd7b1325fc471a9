#include "arrays.hpp"

namespace ctrnn::python {

template <class T>
Tensor<T> to_tensor(const HostArray<T>& a) {
  Shape shape(a.ndim());
  for (size_t d = 0; d < a.ndim(); ++d) shape[d] = static_cast<int64_t>(a.shape(d));
  Tensor<T> t;
  t.shape = std::move(shape);
  t.data.assign(a.data(), a.data() + a.size());
  return t;
}

namespace {

template <class Array>
View view_of_array(const Array& a, const char* name) {
  View v;
  v.data = const_cast<void*>(static_cast<const void*>(a.data()));
  if (a.dtype() == nb::dtype<float>()) v.dtype = DType::Float32;
  else if (a.dtype() == nb::dtype<double>()) v.dtype = DType::Float64;
  else
    throw nb::type_error(("ctrnn: invalid " + std::string(name) + ": expected dtype float32, got another dtype (DLPack code " +
                          std::to_string(int(a.dtype().code)) + ", " + std::to_string(int(a.dtype().bits)) + " bits)")
                             .c_str());
  const int device = a.device_type();
  if (device == nb::device::cpu::value) v.location = Location::host();
  else if (device == nb::device::cuda::value || device == nb::device::cuda_managed::value)
    v.location = Location::cuda(a.device_id());
  else
    throw nb::type_error(("ctrnn: invalid " + std::string(name) +
                          ": expected an array in host memory or on a CUDA device, got DLPack device type " +
                          std::to_string(device))
                             .c_str());
  v.shape.resize(a.ndim());
  v.strides.resize(a.ndim());
  for (size_t d = 0; d < a.ndim(); ++d) {
    v.shape[d] = static_cast<int64_t>(a.shape(d));
    v.strides[d] = a.stride(d);
  }
  return v;
}

}  // namespace

View to_view(const InArray& a, const char* name) { return view_of_array(a, name); }
View to_view(const OutArray& a, const char* name) { return view_of_array(a, name); }

template <class T>
NumpyArray<T> to_numpy(std::vector<T>&& values, Shape shape) {
  auto* owner = new std::vector<T>(std::move(values));
  nb::capsule free_owner(owner, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  std::vector<size_t> dims(shape.begin(), shape.end());
  return NumpyArray<T>(owner->data(), dims.size(), dims.data(), free_owner);
}

template <class T>
NumpyArray<T> to_numpy(Tensor<T>&& t) {
  Shape shape = t.shape;
  return to_numpy(std::move(t.data), std::move(shape));
}

template <class T>
nb::dict params_to_dict(const Params<T>& p) {
  nb::dict d;
  const auto arrays = p.arrays();
  for (int k = 0; k < kNumParamArrays; ++k) d[kParamNames[k]] = to_numpy(std::vector<T>(*arrays[k]), p.shape(k));
  return d;
}

template Tensor<float> to_tensor(const HostArray<float>&);
template Tensor<double> to_tensor(const HostArray<double>&);
template Tensor<uint8_t> to_tensor(const HostArray<uint8_t>&);
template NumpyArray<float> to_numpy(Tensor<float>&&);
template NumpyArray<double> to_numpy(Tensor<double>&&);
template nb::dict params_to_dict(const Params<float>&);
template nb::dict params_to_dict(const Params<double>&);
template NumpyArray<float> to_numpy(std::vector<float>&&, Shape);
template NumpyArray<double> to_numpy(std::vector<double>&&, Shape);
template NumpyArray<int32_t> to_numpy(std::vector<int32_t>&&, Shape);
template NumpyArray<int64_t> to_numpy(std::vector<int64_t>&&, Shape);
template NumpyArray<uint8_t> to_numpy(std::vector<uint8_t>&&, Shape);

}  // namespace ctrnn::python
