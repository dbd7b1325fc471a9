#!/usr/bin/env bash
# The kernels that draw Philox numbers (noise, growth, the persistent recurrence) keep them in
# registers: ptxas reports no stack frame and no spills for any of their entry functions on sm_90
# (issue 10, defect 6: a computed lane index, and cosf/sinf's large-argument reduction, each put a
# local array on the stack of every noise kernel). Usage: check_kernel_stack.sh NVCC SOURCE_DIR
set -euo pipefail
nvcc=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for cu in host/cuda/leaky_step.cu host/cuda/update.cu host/cuda/persistent.cu; do
  "$nvcc" -std=c++17 -c -arch=sm_90 -Xptxas -v -I"$src" -I"$src/include" -I"$src/host" "$src/$cu" \
    -o "$tmp/k.o" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
  entries=$(grep -c "Compiling entry function" "$tmp/log" || true)
  [[ $entries -gt 0 ]] || { echo "no entry functions reported for $cu"; cat "$tmp/log"; exit 1; }
  # Pair each entry function with its resource line.
  bad=$(awk '/Compiling entry function/ {name=$0} /bytes stack frame/ {if ($1 != 0 || $5 != 0 || $9 != 0) print name " -> " $0}' "$tmp/log")
  if [[ -n $bad ]]; then
    echo "$cu: local memory in kernels:"; echo "$bad"; status=1
  else
    echo "$cu: $entries kernels, no stack frame, no spills"
  fi
done
exit $status
