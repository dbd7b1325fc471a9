#pragma once
// The library's one way to report an event (ctrnn/log.hpp says where it goes).
#include <string_view>

namespace ctrnn::detail {

void log_line(std::string_view line);

}  // namespace ctrnn::detail
