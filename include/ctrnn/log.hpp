#pragma once
// Where the library's own messages go. ctrnn writes to no stream by itself: every message (today
// one line when Device::Auto chooses a backend) goes to the log sink. The default sink writes the
// line and a newline to stderr.
#include <functional>
#include <string_view>

namespace ctrnn {

// Receives one event as one line, without a trailing newline. It is called on the thread where
// the event happened, possibly on several threads at once. An exception it throws is swallowed:
// logging never makes a computation fail.
using LogSink = std::function<void(std::string_view line)>;

// Replaces the process-wide sink and returns the previous one (empty when it was the default);
// an empty sink restores the default. Thread-safe. To silence ctrnn: set_log_sink([](auto) {}).
LogSink set_log_sink(LogSink sink);

}  // namespace ctrnn
