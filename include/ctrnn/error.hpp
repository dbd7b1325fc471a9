#pragma once
#include <stdexcept>
#include <string>

namespace ctrnn {

// Thrown for every refused input. The message always names the parameter and what was expected;
// the object the call was made on is left unchanged.
class InvalidArgument : public std::invalid_argument {
 public:
  InvalidArgument(const std::string& parameter, const std::string& expected,
                  const std::string& got = "")
      : std::invalid_argument("ctrnn: invalid " + parameter + ": expected " + expected +
                              (got.empty() ? "" : ", got " + got)),
        parameter_(parameter) {}
  const std::string& parameter() const noexcept { return parameter_; }

 private:
  std::string parameter_;
};

// Thrown when a call is valid in itself but not in the object's current state
// (backward before forward, a CUDA device requested where none exists, ...).
class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ctrnn
