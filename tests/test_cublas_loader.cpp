// cuBLAS is loaded at its first use (host/cuda/cublas_loader.cpp), not at program start: before
// any call the process has no libcublas mapped; the first call loads it and forwards to the real
// function. Needs no GPU (cuBLAS's status strings need no device).
#include <gtest/gtest.h>
#include <link.h>

#include <string>

#include "cuda/cublas.hpp"

namespace {

bool cublas_mapped() {
  bool found = false;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* found) {
        if (info->dlpi_name && std::string(info->dlpi_name).find("libcublas.so") != std::string::npos)
          *static_cast<bool*>(found) = true;
        return 0;
      },
      &found);
  return found;
}

TEST(CublasLoader, LoadsCublasAtItsFirstUse) {
  EXPECT_FALSE(cublas_mapped());
  EXPECT_STREQ(ctrnn::cuda::cublas::status_name(CUBLAS_STATUS_NOT_INITIALIZED), "CUBLAS_STATUS_NOT_INITIALIZED");
  EXPECT_TRUE(cublas_mapped());
}

}  // namespace
