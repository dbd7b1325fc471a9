#pragma once
// What every harness checks besides memory safety and undefined behaviour (the sanitizers):
// the only exceptions that leave the library are its documented ones (include/ctrnn/error.hpp).
// Any other escapes the harness, and libFuzzer reports it as a crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "ctrnn/error.hpp"

namespace ctrnn::fuzz {

template <class F>
void expect_documented_errors_only(F&& f) {
  try {
    f();
  } catch (const InvalidArgument&) {
  } catch (const FileError&) {
  } catch (const StateError&) {
  }
}

inline std::string as_text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// The input as a file, for the functions that read a path (one file per fuzzing process,
// removed at exit).
inline std::string as_file(const uint8_t* data, size_t size) {
  static const struct TempFile {
    std::string path = "/tmp/ctrnn_fuzz_" + std::to_string(::getpid()) + ".safetensors";
    ~TempFile() { ::unlink(path.c_str()); }
  } file;
  std::ofstream(file.path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return file.path;
}

// Array "file" references resolve here: nothing to read but what the input names absolutely.
inline const char* kNoFolder = "/nonexistent-ctrnn-fuzz";

}  // namespace ctrnn::fuzz
