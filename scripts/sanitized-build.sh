#!/usr/bin/env bash
# Builds the CPU library, its tests and the fuzzers with clang, AddressSanitizer (with leak
# checking), UndefinedBehaviorSanitizer and libFuzzer instrumentation, into build-sanitized (or
# CTRNN_SANITIZED_BUILD_DIR). Installs clang and its runtime libraries if missing.
# Usage: scripts/sanitized-build.sh [TARGET ...]   (default: everything)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clang
scripts/install-deps.sh "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"  # libFuzzer and the sanitizers' runtimes
build=${CTRNN_SANITIZED_BUILD_DIR:-build-sanitized}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTRNN_CUDA=OFF \
  -DCTRNN_BUILD_BENCH=OFF -DCTRNN_BUILD_FUZZ=ON "${launcher[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" -j "${CTRNN_JOBS:-2}" "${targets[@]}"
