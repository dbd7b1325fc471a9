#pragma once
// A number as error messages print it.
#include <cstdio>
#include <string>

namespace ctrnn::detail {

// 9 significant digits, enough to tell float32 values apart; std::to_string would print 1e308
// with 309 digits and a small value as 0.000000.
inline std::string number_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

}  // namespace ctrnn::detail
