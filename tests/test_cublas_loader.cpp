// cuBLAS is loaded at its first use (host/cuda/cublas_loader.cpp), not at program start: before
// any call the process has no libcublas mapped; the first call loads it and forwards to the real
// function. Needs no GPU (cuBLAS's status strings need no device). A library that cannot be
// loaded gives the same clear error to every caller, the second as the first (issue 24, defect 1).
#include <gtest/gtest.h>
#include <link.h>

#include <string>

#include "ctrnn/error.hpp"
#include "cuda/cublas.hpp"
#include "cuda/lazy_library.hpp"

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

// The machine that has libcublas.so.12 but not .so.13: the first failing caller read dlerror()
// and consumed it; the second got NULL and crashed building a string from it.
TEST(CublasLoader, AMissingLibraryFailsTheSameWayForEveryCaller) {
  ctrnn::cuda::LazyLibrary missing("cuBLAS", {"libctrnn-test-missing.so.99", "/nonexistent/libcublas.so.99"});
  std::string first;
  try {
    missing.handle();
    FAIL() << "a library that does not exist opened";
  } catch (const ctrnn::StateError& e) {
    first = e.what();
  }
  EXPECT_NE(first.find("cannot load cuBLAS (libctrnn-test-missing.so.99 or /nonexistent/libcublas.so.99)"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("/nonexistent/libcublas.so.99: cannot open shared object file"), std::string::npos)
      << "dlerror's text of the last candidate: " << first;
  for (int call = 0; call < 2; ++call) {
    try {
      missing.handle();
      FAIL() << "opened on call " << call + 2;
    } catch (const ctrnn::StateError& e) {
      EXPECT_EQ(std::string(e.what()), first);
    }
  }
  EXPECT_EQ(missing.error(), first);
}

}  // namespace
