#include "arrays.hpp"

#include <cstring>

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

View from_torch_layout(View v, bool transposed, int64_t ensemble_size, size_t rank) {
  const size_t n = v.shape.size();  // to_view's views carry their strides
  if (transposed && n >= 2) {
    std::swap(v.shape[n - 1], v.shape[n - 2]);
    std::swap(v.strides[n - 1], v.strides[n - 2]);
  }
  if (ensemble_size == 1 && n + 1 == rank) {
    v.shape.insert(v.shape.begin(), 1);
    v.strides.insert(v.strides.begin(), 0);  // a size-1 axis may have any stride
  }
  return v;
}

namespace {

// Whether the library takes v as it is: on a device (it checks those itself), without elements,
// or with dense row-major strides (a size-1 axis may have any stride, as the library allows).
bool passes_as_is(const View& v) {
  if (!v.location.is_host() || v.strides.empty()) return true;
  int64_t dense = 1;
  bool ok = true;
  for (size_t d = v.shape.size(); d-- > 0;) {
    if (v.shape[d] == 0) return true;
    ok = ok && (v.shape[d] == 1 || v.strides[d] == dense);
    dense *= v.shape[d];
  }
  return ok;
}

// dst[i] = src[i] over the index space `shape`, each side with its own strides (in elements).
template <class T>
void copy_strided(size_t d, const Shape& shape, const T* src, const int64_t* src_strides, T* dst,
                  const int64_t* dst_strides) {
  const int64_t n = shape[d], s = src_strides[d], t = dst_strides[d];
  if (d + 1 == shape.size()) {
    for (int64_t i = 0; i < n; ++i) dst[i * t] = src[i * s];
    return;
  }
  for (int64_t i = 0; i < n; ++i) copy_strided(d + 1, shape, src + i * s, src_strides, dst + i * t, dst_strides);
}

void copy_view(const View& from, const View& to) {
  if (from.shape.empty()) {  // one element
    std::memcpy(to.data, from.data, from.dtype == DType::Float32 ? sizeof(float) : sizeof(double));
    return;
  }
  if (from.dtype == DType::Float32)
    copy_strided(0, from.shape, static_cast<const float*>(from.data), from.strides.data(), static_cast<float*>(to.data),
                 to.strides.data());
  else
    copy_strided(0, from.shape, static_cast<const double*>(from.data), from.strides.data(),
                 static_cast<double*>(to.data), to.strides.data());
}

}  // namespace

View DenseCopies::dense_copy(const View& v) {
  View dense = v;
  int64_t n = 1;
  for (size_t d = v.shape.size(); d-- > 0;) {
    dense.strides[d] = n;
    n *= v.shape[d];
  }
  storage_.emplace_back(size_t(n) * (v.dtype == DType::Float32 ? sizeof(float) : sizeof(double)));
  dense.data = storage_.back().data();
  return dense;
}

View DenseCopies::input(View v) {
  if (passes_as_is(v)) return v;
  View dense = dense_copy(v);
  copy_view(v, dense);
  return dense;
}

View DenseCopies::output(View v) {
  if (passes_as_is(v)) return v;
  View dense = dense_copy(v);
  outputs_.emplace_back(dense, v);
  return dense;
}

void DenseCopies::scatter() {
  for (const auto& [dense, strided] : outputs_) copy_view(dense, strided);
  outputs_.clear();
}

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
