#include "ctrnn/log.hpp"

#include <iostream>
#include <mutex>
#include <string>
#include <utility>

#include "log.hpp"

namespace ctrnn {

namespace {

// Function-local statics: safe to use from other translation units' static initializers.
std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
LogSink& installed_sink() {
  static LogSink sink;  // empty: the default, stderr
  return sink;
}

}  // namespace

LogSink set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  std::swap(installed_sink(), sink);
  return sink;
}

void detail::log_line(std::string_view line) {
  LogSink sink;
  {
    // A copy, so that the sink runs without the lock (it may log or replace itself).
    std::lock_guard<std::mutex> lock(sink_mutex());
    sink = installed_sink();
  }
  if (!sink) {
    // One write of the whole line, so that lines from several threads do not interleave.
    std::cerr << (std::string(line) + '\n') << std::flush;
    return;
  }
  try {
    sink(line);
  } catch (...) {
    // Swallowed on purpose: see ctrnn/log.hpp.
  }
}

}  // namespace ctrnn
