#!/usr/bin/env bash
# Builds the library and runs every test through CTest. Installs missing Debian packages first.
# Environment: CTRNN_BUILD_DIR (default build), CTRNN_JOBS (default 2), CTRNN_CMAKE_ARGS (extra
# configure flags, e.g. -DCTRNN_CUDA=ON). Extra arguments go to ctest (e.g. -L golden).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${CTRNN_BUILD_DIR:-build}
jobs=${CTRNN_JOBS:-2}
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CTRNN_CMAKE_ARGS:-}
cmake --build "$build" -j "$jobs"
ctest_status=0
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@" || ctest_status=$?
# The Python package (pip install . into a venv under the build folder, then pytest), run even
# when CTest failed so that one run reports both; skipped when CTRNN_PYTHON=OFF.
[ "${CTRNN_PYTHON:-ON}" = OFF ] || CTRNN_BUILD_DIR="$build" CTRNN_JOBS="$jobs" scripts/test-python.sh
exit "$ctest_status"
