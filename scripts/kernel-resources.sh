#!/usr/bin/env bash
# What ptxas gives each CUDA kernel of the given sources on sm_90 (registers per thread, stack
# frame, spill stores and loads in bytes, named barriers), one row per entry function, demangled:
#   FILE  REGISTERS  STACK  SPILL_STORES  SPILL_LOADS  BARRIERS  KERNEL
# Needs nvcc only (no GPU). Registers times threads per CTA bound the CTAs per SM (65536 registers
# per SM on Hopper); shared memory is dynamic and per plan (docs/gpu-dispatch.md).
# Usage: kernel-resources.sh NVCC SOURCE_DIR [FILE.cu ...]   (default: host/cuda/persistent.cu)
set -euo pipefail
nvcc=$1 src=$2
shift 2
files=("$@")
[[ ${#files[@]} -gt 0 ]] || files=(host/cuda/persistent.cu)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demangle=cat
command -v c++filt >/dev/null && demangle=c++filt
printf '%-24s %9s %5s %12s %11s %8s  %s\n' FILE REGISTERS STACK SPILL_STORES SPILL_LOADS BARRIERS KERNEL
for cu in "${files[@]}"; do
  "$nvcc" -std=c++17 -c -arch=sm_90 -Xptxas -v -I"$src" -I"$src/include" -I"$src/host" "$src/$cu" \
    -o "$tmp/k.o" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
  grep -q "Compiling entry function" "$tmp/log" || { echo "no entry functions reported for $cu" >&2; cat "$tmp/log" >&2; exit 1; }
  # Each entry function's name, then its stack/spill line, then its registers line.
  awk -v file="$cu" '
    /Compiling entry function/ { name = $0; sub(/.*function \047/, "", name); sub(/\047.*/, "", name) }
    /bytes stack frame/ { stack = $1; stores = $5; loads = $9 }
    /Used [0-9]+ registers/ {
      regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
      bars = 0; if ($0 ~ /used [0-9]+ barriers/) { bars = $0; sub(/.*used /, "", bars); sub(/ barriers.*/, "", bars) }
      printf "%-24s %9s %5s %12s %11s %8s  %s\n", file, regs, stack, stores, loads, bars, name
    }' "$tmp/log" | "$demangle"
done
