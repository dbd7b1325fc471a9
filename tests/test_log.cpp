// The log sink (ctrnn/log.hpp): the library's messages reach a sink the caller sets, and without
// one they are single lines on stderr.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "ctrnn/log.hpp"
#include "ctrnn/network.hpp"
#include "log.hpp"

namespace ctrnn {
namespace {

// Restores the default sink when a test ends, whatever happens in it.
struct DefaultSinkAfterTest {
  ~DefaultSinkAfterTest() { set_log_sink(nullptr); }
};

// The only test here that constructs a Device::Auto network: the library says which backend it
// chose once per process, so a second such network would say nothing.
TEST(Log, DeviceAutoMessageGoesToTheCallersSinkAndNotToStderr) {
  DefaultSinkAfterTest restore;
  std::vector<std::string> lines;
  set_log_sink([&](std::string_view line) { lines.emplace_back(line); });
  testing::internal::CaptureStderr();
  Network net(Config{}, Device::Auto);
  const std::string stderr_text = testing::internal::GetCapturedStderr();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("ctrnn: device auto: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(net.device_description()), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find('\n'), std::string::npos) << "a sink receives the line without its newline";
  EXPECT_EQ(stderr_text, "");
}

TEST(Log, DefaultSinkWritesOneLineToStderr) {
  testing::internal::CaptureStderr();
  detail::log_line("ctrnn: a test event");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "ctrnn: a test event\n");
}

TEST(Log, SetLogSinkReturnsThePreviousSinkAndAnEmptySinkRestoresTheDefault) {
  DefaultSinkAfterTest restore;
  int first_calls = 0;
  EXPECT_FALSE(set_log_sink([&](std::string_view) { ++first_calls; })) << "the default is the empty sink";
  LogSink previous = set_log_sink([](std::string_view) {});
  ASSERT_TRUE(previous);
  previous("x");
  EXPECT_EQ(first_calls, 1);

  set_log_sink(nullptr);
  testing::internal::CaptureStderr();
  detail::log_line("back on stderr");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "back on stderr\n");
}

TEST(Log, AnExceptionFromTheSinkIsSwallowed) {
  DefaultSinkAfterTest restore;
  set_log_sink([](std::string_view) { throw std::runtime_error("sink failed"); });
  EXPECT_NO_THROW(detail::log_line("ctrnn: an event"));
}

}  // namespace
}  // namespace ctrnn
