#!/usr/bin/env bash
# Runs each libFuzzer harness of fuzz/ for SECONDS (default 60) under ASan and UBSan, starting
# from the committed seed corpus (fuzz/corpus/NAME) with the dictionary fuzz/ctrnn.dict. Exits
# non-zero on the first crash, leak, sanitizer finding, timeout or undocumented exception; the
# input that caused it is left in build-sanitized/fuzz-findings/.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
harnesses=(safetensors config_json train_config checkpoint run_inputs sweep_spec)
build=${CTRNN_SANITIZED_BUILD_DIR:-build-sanitized}
scripts/sanitized-build.sh "${harnesses[@]/#/fuzz_}"
findings="$build/fuzz-findings"
mkdir -p "$findings"
for h in "${harnesses[@]}"; do
  work="$build/fuzz-corpus/$h"  # new inputs go here; the committed corpus stays as it is
  mkdir -p "$work"
  echo "fuzz: $h for ${seconds}s"
  # rss_limit_mb: an input that makes the library allocate gigabytes is a finding too.
  "$build/fuzz/fuzz_$h" "$work" "fuzz/corpus/$h" -dict=fuzz/ctrnn.dict -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=2048 -artifact_prefix="$findings/$h-" -print_final_stats=1 2>"$build/fuzz-$h.log" ||
    { tail -n 60 "$build/fuzz-$h.log"; echo "fuzz: $h FAILED (input in $findings/)"; exit 1; }
  grep -E "^stat::number_of_executed_units" "$build/fuzz-$h.log" || true
done
echo "fuzz: all ${#harnesses[@]} harnesses ran ${seconds}s each without a finding"
