#!/usr/bin/env bash
# The main job: builds ctrnn and trains a network on the perceptual-decision task (two noisy
# evidence streams; report the stronger one), on the GPU when one is present, else on the CPU.
# Installs missing Debian packages first. Environment: CTRNN_BUILD_DIR (default build),
# CTRNN_JOBS (default 2), CTRNN_DEMO_OUT (default out/perceptual_decision), CTRNN_DEVICE (auto).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${CTRNN_BUILD_DIR:-build}
out=${CTRNN_DEMO_OUT:-out/perceptual_decision}
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CTRNN_CMAKE_ARGS:-}
cmake --build "$build" -j "${CTRNN_JOBS:-2}" --target ctrnn_cli
"$build/ctrnn" train examples/perceptual_decision.json --out "$out" --device "${CTRNN_DEVICE:-auto}"
echo
echo "Evaluate again:   $build/ctrnn eval $out/checkpoint.safetensors"
echo "Inspect:          $build/ctrnn info $out/checkpoint.safetensors"
echo "Train further:    $build/ctrnn train --resume $out/checkpoint.safetensors --steps 3000 --out $out"
echo "All commands:     $build/ctrnn --help"
echo "Plots (Python):    python -m ctrnn.plot $out    # after: pip install '.[plot]'"
