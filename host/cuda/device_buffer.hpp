#pragma once
// RAII device and pinned host memory. Movable, never copied (device-to-device copies are
// CudaPrims::copy, ordered on the backend's stream). Destructors never throw. Needs no CUDA
// header: the allocation functions live in cuda_primitives.cpp.
#include <cstddef>
#include <cstdint>
#include <utility>

namespace ctrnn::cuda {

// cudaMalloc / cudaMallocHost; throw CudaError, leaving the runtime's last error cleared so the
// next launch check does not blame an innocent kernel.
void* device_allocate(size_t bytes);
void device_release(void* p) noexcept;   // waits for the device, then cudaFree; errors ignored
void* pinned_allocate(size_t bytes);
void pinned_release(void* p) noexcept;   // cudaFreeHost; errors ignored

template <class T, void* (*Allocate)(size_t), void (*Release)(void*) noexcept>
class RawBuffer {
 public:
  RawBuffer() = default;
  explicit RawBuffer(size_t n) { resize(n); }
  RawBuffer(const RawBuffer&) = delete;
  RawBuffer& operator=(const RawBuffer&) = delete;
  RawBuffer(RawBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)), capacity_(std::exchange(o.capacity_, 0)) {}
  RawBuffer& operator=(RawBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~RawBuffer() { release(); }

  // n elements; the contents are undefined afterwards. Reallocates only to grow.
  void resize(size_t n) {
    if (n > capacity_) {
      release();
      ptr_ = static_cast<T*>(Allocate(n * sizeof(T)));
      capacity_ = n;
    }
    size_ = n;
  }
  T* data() { return size_ ? ptr_ : nullptr; }
  const T* data() const { return size_ ? ptr_ : nullptr; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t bytes() const { return size_ * sizeof(T); }

 private:
  void release() noexcept {
    if (ptr_) Release(ptr_);
    ptr_ = nullptr;
    size_ = capacity_ = 0;
  }
  T* ptr_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

template <class T>
using DeviceBuffer = RawBuffer<T, device_allocate, device_release>;

template <class T>
using PinnedBuffer = RawBuffer<T, pinned_allocate, pinned_release>;

}  // namespace ctrnn::cuda
