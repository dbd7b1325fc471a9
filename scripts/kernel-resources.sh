#!/usr/bin/env bash
# What ptxas gives each CUDA kernel of the given sources on sm_90 (registers per thread, stack
# frame, spill stores and loads in bytes, named barriers), one row per entry function, demangled:
#   FILE  REGISTERS  STACK  SPILL_STORES  SPILL_LOADS  BARRIERS  KERNEL
# Needs nvcc only (no GPU). Registers times threads per CTA bound the CTAs per SM (65536 registers
# per SM on Hopper); shared memory is dynamic and per plan (docs/gpu-dispatch.md).
# Usage: kernel-resources.sh NVCC SOURCE_DIR [FILE.cu ...]   (default: host/cuda/persistent.cu)
#
#        kernel-resources.sh --shared-loads NVCC SOURCE_DIR
# checks instead, in the PTX of host/cuda/persistent.cu, that the inner loop of the recurrent
# product (the innermost loops with fma.rn.f32) of every persistent kernel, the cluster ones
# above all, loads with ld.shared and never with a generic ld: a CTA reads its own shared memory
# through the __shared__ array, not through a cluster-mapped generic address (issue 24, defect
# 3). One row per kernel: LOOPS LD_SHARED LD_GENERIC KERNEL; exit 1 when a kernel fails.
set -euo pipefail
shared_loads=0
if [[ ${1:-} == --shared-loads ]]; then shared_loads=1; shift; fi
nvcc=$1 src=$2
shift 2
files=("$@")
[[ ${#files[@]} -gt 0 ]] || files=(host/cuda/persistent.cu)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demangle=cat
command -v c++filt >/dev/null && demangle=c++filt
if [[ $shared_loads == 1 ]]; then
  "$nvcc" -std=c++17 -ptx -arch=sm_90 -I"$src" -I"$src/include" -I"$src/host" "$src/host/cuda/persistent.cu" \
    -o "$tmp/p.ptx" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
  # Per entry function: its self-loops (a block that branches to its own label) holding fma.rn.f32,
  # their ld.shared and their generic loads (ld without a state space).
  awk '
    function close_entry() {
      if (name == "") return
      ok = loops > 0 && generic == 0 && shared > 0
      printf "%5d %9d %10d  %s%s\n", loops, shared, generic, name, ok ? "" : "  <- FAIL"
      if (!ok) failed = 1
    }
    /^\.visible \.entry / {
      close_entry(); name = $3; sub(/\(.*/, "", name); loops = shared = generic = 0; label = ""
      if (name ~ /BarrierFloor/) name = ""  # barriers only: no product
      next
    }
    /^\$L__BB[0-9_]+:/ { label = $1; sub(/:$/, "", label); fma = s = g = 0; next }
    /fma\.rn\.f32/ { fma++ }
    /(^|[ \t])ld\.shared\./ { s++ }
    /(^|[ \t])ld\.(v[248]\.)?[bsuf][0-9]+[ \t]/ { g++ }
    /[ \t]bra(\.uni)?[ \t]/ {
      target = $NF; sub(/;$/, "", target)
      if (label != "" && target == label && fma > 0) { loops++; shared += s; generic += g }
    }
    END { close_entry(); exit failed }' "$tmp/p.ptx" >"$tmp/table" || status=$?
  echo "LOOPS LD_SHARED LD_GENERIC  KERNEL"
  "$demangle" <"$tmp/table"
  exit "${status:-0}"
fi
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
