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

nb::dict params_to_dict(const Params<float>& p) {
  nb::dict d;
  const auto arrays = p.arrays();
  for (int k = 0; k < kNumParamArrays; ++k) d[kParamNames[k]] = to_numpy(std::vector<float>(*arrays[k]), p.shape(k));
  return d;
}

template Tensor<float> to_tensor(const HostArray<float>&);
template Tensor<double> to_tensor(const HostArray<double>&);
template NumpyArray<float> to_numpy(Tensor<float>&&);
template NumpyArray<float> to_numpy(std::vector<float>&&, Shape);
template NumpyArray<double> to_numpy(std::vector<double>&&, Shape);
template NumpyArray<int32_t> to_numpy(std::vector<int32_t>&&, Shape);

}  // namespace ctrnn::python
