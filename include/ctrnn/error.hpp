#pragma once
// The exception types the library throws for bad input and bad files: nothing else escapes it
// for any input, however malformed (the fuzzers in fuzz/ check this). Other failures: std::bad_alloc
// when memory runs out, and std::runtime_error for a failing CUDA runtime.
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

// A file that cannot be read or written, or is not what it should be. Names the path.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file that could not be written although the request was valid: a full disk, an I/O error
// (the CLI's exit code 4). Paths that cannot hold the output are refused before as InvalidArgument.
class WriteError : public FileError {
 public:
  using FileError::FileError;
};

// Thrown when a call is valid in itself but not in the object's current state
// (backward before forward, a CUDA device requested where none exists, ...).
class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error's message without its leading "ctrnn: ", to quote it inside another message.
inline std::string reason_of(const std::exception& e) {
  const std::string s = e.what();
  return s.rfind("ctrnn: ", 0) == 0 ? s.substr(7) : s;
}

}  // namespace ctrnn
