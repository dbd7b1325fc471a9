// Device::Cuda where no CUDA device can be used (no GPU, no driver, or a build without CUDA):
// the network refuses with StateError and a message that says why, cuda_available() is false,
// and Device::Auto falls back to the CPU. Skips where a device is present. Also, anywhere: where
// the CUDA backend cannot run for another reason (a device whose cuBLAS cannot be loaded, set
// through the test hook), Device::Auto uses the CPU and says why in one log line.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "backend.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/log.hpp"
#include "ctrnn/network.hpp"

namespace ctrnn {
namespace {

Config small_config() {
  Config c;
  c.dims = {2, 8, 1};
  return c;
}

// First in this file: the line is said once per process, by the first Device::Auto network.
TEST(AutoFallback, ADeviceWithoutCublasFallsBackToTheCpuWithOneLogLine) {
  const std::string why = "a CUDA device, but cannot load cuBLAS (libcublas.so.13): not found (test)";
  detail::override_cuda_unusable_reason(why);
  std::vector<std::string> lines;
  set_log_sink([&](std::string_view line) { lines.emplace_back(line); });
  Network first(small_config(), Device::Auto), second(small_config(), Device::Auto);
  set_log_sink(nullptr);
  detail::override_cuda_unusable_reason(std::nullopt);
  EXPECT_EQ(first.device(), Device::Cpu);
  EXPECT_EQ(second.device(), Device::Cpu);
  ASSERT_EQ(lines.size(), 1u) << "one line per process";
  EXPECT_EQ(lines[0], "ctrnn: device auto: " + why + "; using " + first.device_description());
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
