# Sanitized builds for CI and fuzzing: CTRNN_SANITIZE builds everything with AddressSanitizer
# (with LeakSanitizer) and UndefinedBehaviorSanitizer, any finding fatal; CTRNN_BUILD_FUZZ adds
# libFuzzer's coverage instrumentation and the harnesses of fuzz/ (clang). Host C++ only.
option(CTRNN_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(CTRNN_BUILD_FUZZ "Build the libFuzzer harnesses of fuzz/ (clang; implies CTRNN_SANITIZE)" OFF)

if(CTRNN_SANITIZE OR CTRNN_BUILD_FUZZ)
  set(ctrnn_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${ctrnn_sanitizers}>")
  add_link_options(-fsanitize=address,undefined)
endif()
if(CTRNN_BUILD_FUZZ)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>")
endif()
