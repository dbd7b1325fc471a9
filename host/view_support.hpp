#pragma once
// What the network's and the trainer's view calls share: owning tensors as views, and a call's
// ordering on the caller's stream.
#include <string>

#include "backend.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/tensor.hpp"
#include "ctrnn/view.hpp"

namespace ctrnn::detail {

// A view of a tensor whose data matches its shape (the fields are public, so it may not).
template <class T>
View tensor_view(const Tensor<T>& t, const std::string& parameter) {
  if (Tensor<T>::count(t.shape) != t.numel())
    throw InvalidArgument(parameter, "a tensor whose data matches its shape", shape_to_string(t.shape));
  return view_of(t);
}

// order_after on construction (which may refuse the stream, before anything changed) and
// order_before on destruction, so that the caller's stream waits for whatever a call queued,
// however the call ends.
template <class T>
class StreamScope {
 public:
  StreamScope(Backend<T>& b, Stream s) : b_(b), s_(s) { b_.order_after(s_); }
  ~StreamScope() {
    try {
      b_.order_before(s_);
    } catch (...) {  // a failing CUDA runtime: the call's own error, if any, is the one to report
    }
  }
  StreamScope(const StreamScope&) = delete;
  StreamScope& operator=(const StreamScope&) = delete;

 private:
  Backend<T>& b_;
  Stream s_;
};

}  // namespace ctrnn::detail
