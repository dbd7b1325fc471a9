#!/usr/bin/env bash
# The 3-bit flip-flop (FixedPointFinder's example) end to end with the `ctrnn` program: train
# examples/flip_flop.json, draw trials of its task, find the fixed points along their trajectories
# (8 stable ones near the corners of the output cube, saddles between them), and draw them when
# the Python package is installed.
#
#   examples/flip_flop.sh [OUT]        # default out/flip_flop; CTRNN=path/to/ctrnn (default build/ctrnn)
set -euo pipefail
cd "$(dirname "$0")/.."
ctrnn=${CTRNN:-build/ctrnn}
out=${1:-out/flip_flop}
"$ctrnn" train examples/flip_flop.json --out "$out" --overwrite
"$ctrnn" export-task examples/flip_flop.json --trials 128 --seed 7 --out "$out/trials.safetensors"
# --max-q: fixed points, not the slow points (q ~ 1e-7) that the search also stops at.
"$ctrnn" fixed-points "$out/checkpoint.safetensors" --inputs "$out/trials.safetensors" --n 1024 --max-q 1e-9 \
  --out "$out/fixed_points.safetensors"
if python3 -c "import ctrnn, matplotlib" 2>/dev/null; then
  python3 -m ctrnn.plot "$out"   # training curves, a trial, and fixed_points.png, fixed_point_spectra.png
else
  echo "flip_flop: pictures need the Python package with matplotlib (pip install .[plot]); then: python3 -m ctrnn.plot $out"
fi
