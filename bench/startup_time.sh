#!/usr/bin/env bash
# Start-up cost of the ctrnn program: mean wall time over N runs (default 20) of `--help` and of
# a tiny `run --device cpu` (H = 12, 15 steps), for each binary given (e.g. before and after a
# change). Usage: bench/startup_time.sh BUILD/ctrnn [OTHER/ctrnn ...]
set -uo pipefail
N=${N:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/small.json" <<'JSON'
{"dims": [3, 12, 2], "activation": "tanh", "seed": 4,
 "task": {"name": "perceptual_decision", "fixation_steps": 3, "stimulus_steps": 8, "decision_steps": 4}}
JSON
"$1" export-task "$work/small.json" --trials 4 --out "$work/in.safetensors" > /dev/null || exit 1
mean_ms() {  # command...
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq "$N"); do "$@" > /dev/null 2>&1; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / N / 1000000 ))
}
for bin in "$@"; do
  echo "$bin: --help $(mean_ms "$bin" --help) ms, run --device cpu $(mean_ms "$bin" run "$work/small.json" \
    --inputs "$work/in.safetensors" --out "$work/out.safetensors" --device cpu) ms (mean of $N)"
done
