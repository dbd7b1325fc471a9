// Device::Cuda where no CUDA device can be used (no GPU, no driver, or a build without CUDA):
// the network refuses with StateError and a message that says why, cuda_available() is false,
// and Device::Auto falls back to the CPU. Skips where a device is present.
#include <gtest/gtest.h>

#include <string>

#include "ctrnn/error.hpp"
#include "ctrnn/network.hpp"

namespace ctrnn {
namespace {

Config small_config() {
  Config c;
  c.dims = {2, 8, 1};
  return c;
}

TEST(CudaWithoutDevice, CudaDeviceThrowsStateError) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  try {
    Network net(small_config(), Device::Cuda);
    FAIL() << "Device::Cuda without a device constructed a network on " << net.device_description();
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

TEST(CudaWithoutDevice, AvailabilityIsFalseAndStable) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(cuda_available());
  EXPECT_FALSE(cuda_available());  // asked twice: no crash, same answer
}

TEST(CudaWithoutDevice, AutoFallsBackToTheCpu) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  Network net(small_config(), Device::Auto);
  EXPECT_EQ(net.device(), Device::Cpu);
}

}  // namespace
}  // namespace ctrnn
