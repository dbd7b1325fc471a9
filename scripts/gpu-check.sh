#!/usr/bin/env bash
# The ONE script for a machine with an H100/H200-class GPU (nvcc 13, CMake, ninja,
# compute-sanitizer, PyTorch; probably no gtest, benchmark or nlohmann-json packages; no network).
# Runs in the repository root, in under 8 minutes:
#   1. checks nvidia-smi, compute-sanitizer and the cuBLAS library path (seconds);
#   2. takes the binaries built here by scripts/gpu-prepare.sh (carried build-gpu/), or, when they
#      do not start there, builds for sm_90 there from the carried dependency sources;
#   3. runs every test binary: test_cuda_gpu (CUDA primitives, backend and networks against the
#      CPU) and all the others, whose float networks use the GPU too (Device::Auto);
#   4. runs compute-sanitizer memcheck, racecheck, synccheck and initcheck on small GPU tests;
#   5. runs the bench_* binaries that exist, briefly;
#   6. times nn4n (PyTorch) against ctrnn on the GPU with bench/peer_bench.py (peer_cuda.md);
#   7. prints a short table last.
# Usage (device tool): run(command="bash scripts/gpu-check.sh", carry=["build-gpu"], timeout_s=560)
#   bash scripts/gpu-check.sh --dry-run   checks the environment and binaries, runs nothing on a
#                                          GPU (works without one)
# Logs go to $OUT (default ./gpu-check-out), at most 8 files: summary.txt, env.txt, tests.log,
# sanitizer.log, bench.log, peer_cuda.md, build.log (only when it built there), detail.tar.gz (every log, the
# gtest XML and the benchmark JSON).
# Exit status: 0 everything passed; 1 a test or sanitizer check failed; 2 no GPU or no binaries.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
t0=$SECONDS
dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
OUT=${OUT:-$root/gpu-check-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{summary.txt,env.txt,tests.log,sanitizer.log,bench.log,peer_cuda.md,build.log,detail.tar.gz}
detail=$(mktemp -d)
rows=()
verdict=0

say() { printf '[gpu-check %3ds] %s\n' $((SECONDS - t0)) "$*"; }
row() { rows+=("$(printf '%-24s %-8s %5ss  %s' "$1" "$2" "$3" "$4")"); }
finish() {
  tar -C "$detail" -czf "$OUT/detail.tar.gz" . 2>/dev/null
  rm -rf "$detail"
  local word=PASS
  [ "$1" -eq 1 ] && word=FAIL
  [ "$1" -eq 2 ] && word="NOT RUN"
  [ "$dry" -eq 1 ] && word="DRY RUN ($word)"
  {
    echo
    echo "== gpu-check summary, $(date -u +%Y-%m-%dT%H:%M:%SZ), $((SECONDS - t0)) s, logs in $OUT"
    printf '%-24s %-8s %6s  %s\n' step result time notes
    printf '%s\n' "${rows[@]}"
    echo "verdict: $word"
  } | tee "$OUT/summary.txt"
  exit "$1"
}
# gtest's closing lines -> "P passed, F failed, S skipped"
gtest_counts() {
  local p f s
  p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$1" | grep -oE '[0-9]+$' | tail -1)
  f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$1" | grep -oE '[0-9]+' | tail -1)
  s=$(grep -oE '^\[  SKIPPED \] [0-9]+' "$1" | grep -oE '[0-9]+$' | tail -1)
  echo "${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
}

# --- 1. Environment --------------------------------------------------------------------------
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>/dev/null | head -1)
sanitizer=$(command -v compute-sanitizer 2>/dev/null || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -z "$sanitizer" ] && [ -x "$c" ] && sanitizer=$c
done
cublas_dir=""
pip_cublas=$(python3 -c 'import os, nvidia.cublas as c; print(os.path.join(list(c.__path__)[0], "lib"))' 2>/dev/null || true)
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib $pip_cublas; do
  if ls "$d"/libcublas.so.13* >/dev/null 2>&1; then cublas_dir=$d; break; fi
done
work=build-gpu-work
export LD_LIBRARY_PATH="${cublas_dir:+$cublas_dir:}$root/$work/bench:${LD_LIBRARY_PATH:-}"
{
  echo "== host: $(uname -srm), $(nproc) cores, $(ldd --version 2>&1 | head -1)"
  echo "== nvidia-smi"; nvidia-smi 2>&1 | head -25
  echo "== compute-sanitizer: ${sanitizer:-not found}"; [ -n "$sanitizer" ] && "$sanitizer" --version 2>&1 | tail -2
  echo "== nvcc: $(nvcc --version 2>&1 | tail -1)"
  echo "== cuBLAS 13: ${cublas_dir:-not found}"
  echo "== libcuda: $(ldconfig -p 2>/dev/null | grep -m1 'libcuda.so.1' || echo 'not in ldconfig')"
  echo "== LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "== build-gpu/MANIFEST"; cat build-gpu/MANIFEST 2>&1
} > "$OUT/env.txt" 2>&1
if [ -z "$gpu" ]; then
  # GPU_CHECK_NO_GPU_OK=1 runs every step anyway: only for testing this script on a machine
  # without a GPU (the GPU tests then skip, which counts as a failure).
  if [ "$dry" -eq 0 ] && [ "${GPU_CHECK_NO_GPU_OK:-0}" != 1 ]; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi lists none; see $OUT/env.txt)." \
      "Run this on the GPU machine; 'bash scripts/gpu-check.sh --dry-run' checks the rest without one." >&2
    row gpu FAIL 0 "nvidia-smi lists no GPU"
    finish 2
  fi
  row gpu none 0 "no GPU: dry run or GPU_CHECK_NO_GPU_OK=1"
else
  row gpu ok 0 "$gpu"
fi
row compute-sanitizer "$([ -n "$sanitizer" ] && echo ok || echo missing)" 0 "${sanitizer:-not found: sanitizer steps skipped}"
row cublas "$([ -n "$cublas_dir" ] && echo ok || echo missing)" 0 "${cublas_dir:-libcublas.so.13 not found}"
say "environment: ${gpu:-no GPU}; sanitizer ${sanitizer:-none}; cuBLAS ${cublas_dir:-none}"

# --- 2. Binaries -----------------------------------------------------------------------------
t=$SECONDS
src_dir=$(sed -n 's/^source_dir=//p' build-gpu/MANIFEST 2>/dev/null)
if [ ! -x "$work/tests/test_cuda_gpu" ] && [ -f build-gpu/bundle.tar.xz ]; then
  tar -C "$root" -xJf build-gpu/bundle.tar.xz && say "unpacked build-gpu/bundle.tar.xz"
fi
# Tests with built-in paths (golden data, the CLI, CTest files) name the source folder of the
# build; point that path here when it does not exist.
if [ -n "$src_dir" ] && [ "$src_dir" != "$root" ]; then
  if [ ! -e "$src_dir" ] && mkdir -p "$(dirname "$src_dir")" 2>/dev/null && ln -s "$root" "$src_dir"; then
    say "linked $src_dir -> $root (paths built into the binaries)"
  elif [ "$(readlink -f "$src_dir")" != "$root" ]; then
    say "warning: $src_dir exists and is not this checkout: tests reading files by built-in path may fail"
  fi
fi
binaries=carried
if ! "$work/tests/test_cuda_gpu" --gtest_list_tests >"$detail/list.log" 2>&1; then
  say "carried binaries do not start here ($(head -c 300 "$detail/list.log")); building for sm_90 here"
  binaries=built
  prefix=/tmp/ctrnn-deps
  (
    set -e
    if [ -d "$work/deps/googletest-src" ]; then
      cmake -S "$work/deps/googletest-src" -B /tmp/ctrnn-gtest -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$prefix"
      cmake --build /tmp/ctrnn-gtest -j "$(nproc)"
      cmake --install /tmp/ctrnn-gtest
      cp -r "$work/deps/prefix/." "$prefix/"
    fi
    work=build-gpu-here
    cmake -S . -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTRNN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DCMAKE_PREFIX_PATH="$prefix"
    cmake --build "$work" -j "$(nproc)"
  ) >"$OUT/build.log" 2>&1
  rc=$?
  work=build-gpu-here
  if [ $rc -ne 0 ] || ! "$work/tests/test_cuda_gpu" --gtest_list_tests >/dev/null 2>&1; then
    row binaries FAIL $((SECONDS - t)) "no carried binaries that start, and the build here failed (build.log)"
    finish 2
  fi
fi
tests=()
for b in "$work"/tests/test_*; do [ -f "$b" ] && [ -x "$b" ] && tests+=("$b"); done
benches=()
for b in "$work"/bench/bench_*; do [ -f "$b" ] && [ -x "$b" ] && benches+=("$b"); done
row binaries ok $((SECONDS - t)) "$binaries: ${#tests[@]} test and ${#benches[@]} bench binaries in $work"
say "binaries: $binaries, ${#tests[@]} tests, ${#benches[@]} benches"

if [ "$dry" -eq 1 ]; then
  for b in "${tests[@]}"; do
    n=$("$b" --gtest_list_tests 2>/dev/null | grep -c '^  ')
    row "$(basename "$b")" listed 0 "$n tests (not run: dry run)"
  done
  for b in "${benches[@]}"; do row "$(basename "$b")" found 0 "not run: dry run"; done
  finish 0
fi

# --- 3. Tests --------------------------------------------------------------------------------
t=$SECONDS
say "tests: test_cuda_gpu, and the other ${#tests[@]} binaries in parallel"
timeout 200 "$work/tests/test_cuda_gpu" --gtest_output="xml:$detail/test_cuda_gpu.xml" \
  >"$detail/test_cuda_gpu.log" 2>&1 &
gpu_pid=$!
export GPU_CHECK_DETAIL=$detail
# shellcheck disable=SC2016
for b in "${tests[@]}"; do
  [ "$(basename "$b")" = test_cuda_gpu ] && continue
  echo "$b"
done | xargs -r -P 6 -I{} sh -c 'n=$(basename "$1"); timeout 180 "$1" --gtest_output="xml:$GPU_CHECK_DETAIL/$n.xml" \
  >"$GPU_CHECK_DETAIL/$n.log" 2>&1; echo $? >"$GPU_CHECK_DETAIL/$n.rc"' _ {}
wait $gpu_pid
echo $? >"$detail/test_cuda_gpu.rc"
: >"$OUT/tests.log"
for b in "${tests[@]}"; do
  n=$(basename "$b")
  rc=$(cat "$detail/$n.rc" 2>/dev/null || echo 1)
  counts=$(gtest_counts "$detail/$n.log")
  result=PASS
  [ "$rc" -ne 0 ] && result=FAIL
  [ "$rc" -eq 124 ] && result=TIMEOUT
  # On a GPU machine a skipped GPU test means the device was not seen: that is a failure.
  if [ "$n" = test_cuda_gpu ] && ! echo "$counts" | grep -q ' 0 skipped'; then result=FAIL; fi
  [ "$result" != PASS ] && verdict=1
  row "$n" "$result" "-" "$counts"
  { echo "===== $n (exit $rc)"; cat "$detail/$n.log"; } >>"$OUT/tests.log"
done
row "tests (wall)" - $((SECONDS - t)) ""
say "tests done"

# --- 4. compute-sanitizer ----------------------------------------------------------------------
# Small GPU tests only (the sanitizers slow kernels 10-100x). ErrorsThrowNamingTheCall is left
# out: its deliberate failed allocation is an API error the sanitizer would count.
small='CudaBackendState.*:Sizes/CudaBackendVsCpu.EveryCallMatches/relu_E1_H7_B3_T2_masks_adam'
small="$small:Sizes/CudaBackendVsCpu.EveryCallMatches/sigmoid_E8_H7_B64_T1_masks_noise_bias_uE_mTBO_reg_adam"
shared='CudaPrimitives.ColumnSums*:CudaPrimitives.Reduce*'  # the kernels with shared memory
t=$SECONDS
: >"$OUT/sanitizer.log"
if [ -n "$sanitizer" ]; then
  say "compute-sanitizer: memcheck, racecheck, synccheck, initcheck (in parallel)"
  run_tool() {  # tool timeout filter extra-args...
    local tool=$1 limit=$2 filter=$3
    shift 3
    CTRNN_CUDA_SYNC_CHECK=1 timeout "$limit" "$sanitizer" --tool "$tool" --error-exitcode 86 "$@" \
      "$work/tests/test_cuda_gpu" --gtest_filter="$filter" >"$detail/sanitizer-$tool.log" 2>&1
    echo $? >"$detail/sanitizer-$tool.rc"
  }
  run_tool memcheck 100 "$small:CudaPrimitives.*:-CudaPrimitives.ErrorsThrowNamingTheCall:CudaPrimitives.GemmTf32*" --leak-check full &
  run_tool racecheck 100 "$shared:$small" --racecheck-report hazard &
  run_tool synccheck 80 "$shared:$small" &
  run_tool initcheck 80 "$small" &
  wait
  for tool in memcheck racecheck synccheck initcheck; do
    rc=$(cat "$detail/sanitizer-$tool.rc" 2>/dev/null || echo 1)
    summary=$(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$detail/sanitizer-$tool.log" | sed 's/^=* *//')
    counts=$(gtest_counts "$detail/sanitizer-$tool.log")
    result=PASS
    if grep -q -E 'Device not supported|not supported on this' "$detail/sanitizer-$tool.log"; then
      result=N/A
    elif [ "$rc" -eq 124 ]; then
      result=TIMEOUT verdict=1
    elif [ "$rc" -ne 0 ]; then
      result=FAIL verdict=1
    fi
    row "sanitizer $tool" "$result" "-" "${summary:-no summary}; $counts"
    { echo "===== $tool (exit $rc)"; cat "$detail/sanitizer-$tool.log"; } >>"$OUT/sanitizer.log"
  done
  row "sanitizers (wall)" - $((SECONDS - t)) ""
else
  row sanitizers skipped 0 "compute-sanitizer not found"
fi

# --- 5. Benchmarks (whatever bench_* exist; brief) ---------------------------------------------
t=$SECONDS
: >"$OUT/bench.log"
for b in "${benches[@]}"; do
  n=$(basename "$b")
  # The GPU cases (names <mode>/cuda/...) and one small CPU case for scale.
  timeout 60 "$b" --benchmark_filter='/cuda/|/cpu/H:64/B:32/T:100/E:1/' --benchmark_min_time=0.05 \
    --benchmark_out="$detail/$n.json" --benchmark_out_format=json >"$detail/$n.log" 2>&1
  rc=$?
  result=ok
  [ $rc -ne 0 ] && result="rc $rc"
  [ $rc -eq 124 ] && result=TIMEOUT
  row "$n" "$result" "-" "$(grep -c -E '^[A-Za-z_].*[0-9] (ns|us|ms|s) ' "$detail/$n.log") timings (bench.log)"
  { echo "===== $n (exit $rc)"; cat "$detail/$n.log"; } >>"$OUT/bench.log"
done
[ ${#benches[@]} -eq 0 ] && row benchmarks none 0 "no bench_* binaries"
row "benchmarks (wall)" - $((SECONDS - t)) ""

# --- 6. nn4n (PyTorch on the same GPU) against ctrnn, side by side ----------------------------
# The machine has torch but no network: nn4n comes from the wheel in bench/. Three sizes, and
# only with the time left before 7.5 minutes (the script's budget is 8).
t=$SECONDS
left=$((450 - (SECONDS - t0)))
if [ "$left" -lt 45 ]; then
  row peer_bench skipped 0 "not enough time left (${left}s)"
elif [ -x "$work/bench/bench_forward" ] && python3 -c 'import torch, numpy; assert torch.cuda.is_available()' 2>/dev/null; then
  timeout "$left" python3 bench/peer_bench.py --device cuda --build "$work" --no-build --no-venv \
    --nn4n bench/nn4n-1.1.1-py3-none-any.whl --repetitions 3 --min-time 0.2 \
    --size 64,32,100,1 --size 256,64,200,1 --size 1024,256,200,1 \
    --out "$OUT/peer_cuda.md" >"$detail/peer_cuda.log" 2>&1
  rc=$?
  row peer_bench "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) "nn4n vs ctrnn on the GPU: peer_cuda.md"
  { echo "===== peer_bench (exit $rc)"; cat "$detail/peer_cuda.log"; } >>"$OUT/bench.log"
else
  row peer_bench skipped 0 "no bench binaries or no torch with CUDA"
fi

finish "$verdict"
