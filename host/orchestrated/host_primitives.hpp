#pragma once
// The host implementation of primitives.hpp: plain loops over std::vector storage. With it the
// CUDA backend's orchestration (orchestrated_backend.hpp) and its kernel bodies run on the host,
// in CI, and are compared with the independent CPU reference.
#include <cstdint>
#include <string>
#include <vector>

#include "ctrnn/device.hpp"
#include "orchestrated/primitives.hpp"

namespace ctrnn::detail {

struct HostPrims {
  template <class T>
  using Buffer = std::vector<T>;

  Device device() const { return Device::Cpu; }
  std::string description() const { return "host run of the CUDA backend's orchestration (plain loops)"; }

  void gemm(Op ta, Op tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
            int64_t stride_c, int64_t batch) {
    for (int64_t i = 0; i < batch; ++i) {
      const float* a = A + i * stride_a;
      const float* b = B + i * stride_b;
      float* c = C + i * stride_c;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          float acc = 0.0f;
          for (int64_t k = 0; k < K; ++k) {
            const float x = ta == Op::N ? a[m * lda + k] : a[k * lda + m];
            const float y = tb == Op::N ? b[k * ldb + n] : b[n * ldb + k];
            acc += x * y;
          }
          float& out = c[m * ldc + n];
          out = beta == 0.0f ? alpha * acc : alpha * acc + beta * out;
        }
    }
  }

  template <class F>
  void apply(int64_t n, const F& body) {
    for (int64_t i = 0; i < n; ++i) body(i);
  }

  template <class F>
  void reduce(int64_t E, int64_t n, const F& body, double* out, bool accumulate) {
    for (int64_t e = 0; e < E; ++e) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += body(e, i);
      out[e] = accumulate ? out[e] + s : s;
    }
  }

  void column_sums(int64_t batch, int64_t rows, int64_t cols, const float* x, int64_t stride_x, float scale,
                   float* out, int64_t stride_out) {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t c = 0; c < cols; ++c) {
        float s = 0.0f;
        for (int64_t r = 0; r < rows; ++r) s += x[b * stride_x + r * cols + c];
        out[b * stride_out + c] = scale * s;
      }
  }

  template <class T>
  void upload(T* dst, const T* host_src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = host_src[i];
  }
  template <class T>
  void download(T* host_dst, const T* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) host_dst[i] = src[i];
  }
  void copy(float* dst, const float* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  }
};

}  // namespace ctrnn::detail
