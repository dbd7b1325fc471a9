#pragma once
// A shared library opened at its first use, once for the process: the first caller tries each
// candidate name in turn; the outcome, the handle or why none could be opened (dlerror's text,
// read once, right after the failed dlopen), is kept, so every later caller gets the same answer.
// dlerror() must not be read again later: it returns NULL once read (issue 24, defect 1: a second
// failing caller built a std::string from that NULL and crashed). Needs no CUDA header.
#include <dlfcn.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ctrnn/error.hpp"

namespace ctrnn::cuda {

class LazyLibrary {
 public:
  // what: the library's name in messages ("cuBLAS"); candidates: dlopen's names, in order.
  LazyLibrary(std::string what, std::vector<std::string> candidates)
      : what_(std::move(what)), candidates_(std::move(candidates)) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The handle; throws StateError (the same message every time) when no candidate opens.
  void* handle() {
    open();
    if (!handle_) throw StateError(error_);
    return handle_;
  }
  // "" when the library opens, else the message handle() throws. Opens it (once) to find out.
  const std::string& error() {
    open();
    return error_;
  }

 private:
  void open() {
    std::call_once(once_, [this] {
      std::string tried, why;
      for (const std::string& name : candidates_) {
        handle_ = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle_) return;
        const char* e = dlerror();
        tried += (tried.empty() ? "" : " or ") + name;
        why = e ? e : "dlopen failed";
      }
      error_ = "ctrnn: cannot load " + what_ + " (" + tried + "): " + why;
    });
  }

  std::string what_;
  std::vector<std::string> candidates_;
  std::once_flag once_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace ctrnn::cuda
