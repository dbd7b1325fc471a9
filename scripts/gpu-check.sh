#!/usr/bin/env bash
# The ONE script for a machine with an H100/H200-class GPU (the device image: nvcc 13, CMake,
# ninja, compute-sanitizer, PyTorch; no gtest, benchmark or nlohmann-json packages; no network).
# One call answers as much as it can in about 8 minutes (GPU_CHECK_BUDGET_S, default 480: the
# device tool's 10-minute call less the machine's start and the transfers, within a session's 15
# minutes of device time); each phase has a deadline and appends its summary row to
# $OUT/summary.txt as it ends, so a run killed at its limit still returns what it learned. Phases:
#   image        GPU, driver, CUDA toolkit, compute-sanitizer, cuBLAS, PyTorch; the glibc there
#                against the newest one the carried binaries need (build-gpu/MANIFEST); the
#                kernels' registers, stack and spills as ptxas gave them at build time
#                (build-gpu/kernel-resources.txt, scripts/kernel-resources.sh), in env.txt
#   binaries     unpacks build-gpu/bundle.tar.xz (scripts/gpu-prepare.sh); builds there for sm_90
#                only when the carried binaries do not start, within its own deadline
#   correctness  every gtest suite in its own process (a crash or hang costs one suite), started
#                in this order: CudaPrimitives, CudaBackendState, PersistentGpu (every path of
#                the recurrence), CudaBackendVsCpu, the other GPU suites, then the rest; GPU
#                suites with CTRNN_CUDA_SYNC_CHECK=1 (a fault names its kernel) and
#                CTRNN_TEST_DEVIATIONS=1: the largest deviation of every GPU-CPU comparison,
#                passing or not, in deviations.txt and per suite in the summary
#   probe        bench/gpu_probe: launch latency on a stream and in a graph, cluster barrier plus
#                distributed-shared-memory exchange per step for cluster sizes 1-16, active
#                clusters at ~200 KB of shared memory, cuBLAS 256x64x256 (the next design step)
#   sanitizer    compute-sanitizer memcheck on the small GPU suites; racecheck, initcheck and
#                synccheck on the project's own kernels only (--kernel-name kns=ctrnn: not cuBLAS)
#   timings      bench_forward at T = 1, 10, 100, 1000 and E = 1, 64 (outputs left on the device,
#                and once with y and r copied back), bench_train_step graphed and ungraphed,
#                bench_recurrence: forward and forward + BPTT per recurrence path (sequence,
#                persistent CTA, persistent cluster) and the persistent kernels' barrier floor at
#                issue 11's sizes, then its targets (bench/recurrence_targets.py: per-step time at
#                (256, 64) and (512, 64), E = 64 over E = 1 at (64, 32, 100), time per step over
#                the barrier floor, fraction of fp32 peak) as summary rows
#   nn4n         bench/peer_bench.py: nn4n (the bundled wheel, PyTorch there) against ctrnn on
#                the same GPU at (H, B, T) = (256, 64, 200), E = 1 and 64
# Usage (device tool), after scripts/gpu-prepare.sh here:
#   run(command="bash scripts/gpu-check.sh", carry=["build-gpu"], timeout_s=600)
#   bash scripts/gpu-check.sh --dry-run   the image and binaries checks and every phase's plan,
#                                          running nothing on a GPU (works without one)
# $OUT (default ./gpu-check-out) receives at most 8 files: summary.txt, env.txt, tests.log,
# deviations.txt, probe.txt, sanitizer.log, bench.log, detail.tar.gz (logs, gtest XML, benchmark
# JSON, build.log when it built there).
# Exit status: 0 everything passed; 1 a test or check failed; 2 no GPU or no binaries.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
t0=$SECONDS
dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
budget=${GPU_CHECK_BUDGET_S:-480}  # the whole run (see above)
OUT=${OUT:-$root/gpu-check-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{summary.txt,env.txt,tests.log,deviations.txt,probe.txt,sanitizer.log,bench.log,detail.tar.gz}
detail=$(mktemp -d)
verdict=0
work=build-gpu-work

say() { printf '[gpu-check %3ds] %s\n' $((SECONDS - t0)) "$*"; }
# row STEP RESULT SECONDS NOTES: appended to summary.txt at once (and the detail archive
# refreshed), so whatever ends the run, what is done is reported.
row() {
  printf '%-28s %-8s %5ss  %s\n' "$1" "$2" "$3" "$4" >>"$OUT/summary.txt"
  tar -C "$detail" -czf "$OUT/detail.tar.gz" . 2>/dev/null
}
# Seconds a phase may take: its own budget, within what is left of the whole run less `keep`
# seconds kept for the phases after it; at least 10 s (or what is left) when that is exhausted.
deadline() {  # phase_budget keep
  local left=$((budget - (SECONDS - t0) - $2)) total=$((budget - (SECONDS - t0)))
  local d=$1
  [ "$left" -lt "$d" ] && d=$left
  [ "$d" -lt 10 ] && d=$((total < 10 ? total : 10))
  [ "$d" -lt 1 ] && d=1
  echo "$d"
}
finish() {
  local word=PASS
  [ "$1" -eq 1 ] && word=FAIL
  [ "$1" -eq 2 ] && word="NOT RUN"
  [ "$dry" -eq 1 ] && word="DRY RUN ($word)"
  echo "verdict: $word ($((SECONDS - t0)) s, $(date -u +%Y-%m-%dT%H:%M:%SZ))" >>"$OUT/summary.txt"
  tar -C "$detail" -czf "$OUT/detail.tar.gz" . 2>/dev/null
  rm -rf "$detail"
  echo
  echo "== gpu-check summary, logs in $OUT"
  cat "$OUT/summary.txt"
  exit "$1"
}
# gtest's closing lines -> "P passed, F failed, S skipped"
gtest_counts() {
  local p f s
  p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$1" 2>/dev/null | grep -oE '[0-9]+$' | tail -1)
  f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$1" 2>/dev/null | grep -oE '[0-9]+' | tail -1)
  s=$(grep -oE '^\[  SKIPPED \] [0-9]+' "$1" 2>/dev/null | grep -oE '[0-9]+$' | tail -1)
  echo "${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
}
printf '%-28s %-8s %6s  %s\n' phase result time notes >"$OUT/summary.txt"
echo "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(sed -n 's/^commit=//p' build-gpu/MANIFEST 2>/dev/null)" \
  >>"$OUT/summary.txt"

# --- image -----------------------------------------------------------------------------------
t=$SECONDS
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
gpu=$(timeout 15 nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>/dev/null | head -1)
cuda_driver=$(timeout 15 nvidia-smi 2>/dev/null | grep -oE 'CUDA Version: [0-9.]+' | head -1)
toolkit=$(nvcc --version 2>/dev/null | grep -oE 'release [0-9.]+' | head -1)
sanitizer=$(command -v compute-sanitizer 2>/dev/null || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -z "$sanitizer" ] && [ -x "$c" ] && sanitizer=$c
done
cublas_dir=""
pip_cublas=$(timeout 20 python3 -c 'import os, nvidia.cublas as c; print(os.path.join(list(c.__path__)[0], "lib"))' 2>/dev/null || true)
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib $pip_cublas; do
  if ls "$d"/libcublas.so.13* >/dev/null 2>&1; then cublas_dir=$d; break; fi
done
export LD_LIBRARY_PATH="${cublas_dir:+$cublas_dir:}$root/$work/bench:${LD_LIBRARY_PATH:-}"
glibc_here=$(ldd --version 2>&1 | head -1 | grep -oE '[0-9]+\.[0-9]+$')
glibc_needed=$(sed -n 's/^glibc_needed=//p' build-gpu/MANIFEST 2>/dev/null)
glibc_ok=unknown
if [ -n "$glibc_here" ] && [ -n "$glibc_needed" ]; then
  if [ "$(printf '%s\n%s\n' "$glibc_needed" "$glibc_here" | sort -V | tail -1)" = "$glibc_here" ]; then glibc_ok=yes; else glibc_ok=no; fi
fi
torch=$(timeout 30 python3 -c 'import torch; print(torch.__version__, "cuda" if torch.cuda.is_available() else "no-cuda")' 2>/dev/null || echo none)
{
  echo "== host: $(uname -srm), $(nproc) cores, glibc ${glibc_here:-?}"
  echo "== nvidia-smi"; timeout 15 nvidia-smi 2>&1 | head -25
  echo "== compute-sanitizer: ${sanitizer:-not found}"; [ -n "$sanitizer" ] && "$sanitizer" --version 2>&1 | tail -2
  echo "== nvcc: ${toolkit:-not found}"
  echo "== cuBLAS 13: ${cublas_dir:-not found}"
  echo "== torch: $torch"
  echo "== libcuda: $(ldconfig -p 2>/dev/null | grep -m1 'libcuda.so.1' || echo 'not in ldconfig')"
  echo "== LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "== build-gpu/MANIFEST"; cat build-gpu/MANIFEST 2>&1
  echo "== kernel resources (ptxas -v for sm_90 at build time: build-gpu/kernel-resources.txt)"
  cat build-gpu/kernel-resources.txt 2>&1
} >"$OUT/env.txt" 2>&1
if [ -z "$gpu" ]; then
  # GPU_CHECK_NO_GPU_OK=1 runs every phase anyway: only for testing this script on a machine
  # without a GPU (the GPU suites then skip, which counts as a failure).
  if [ "$dry" -eq 0 ] && [ "${GPU_CHECK_NO_GPU_OK:-0}" != 1 ]; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi lists none; see $OUT/env.txt)." \
      "Run this on the GPU machine; 'bash scripts/gpu-check.sh --dry-run' checks the rest without one." >&2
    row "image: gpu" FAIL $((SECONDS - t)) "nvidia-smi lists no GPU"
    finish 2
  fi
  row "image: gpu" none $((SECONDS - t)) "no GPU (dry run or GPU_CHECK_NO_GPU_OK=1)"
else
  row "image: gpu" ok $((SECONDS - t)) "$gpu; ${cuda_driver:-driver CUDA version ?}"
fi
row "image: toolkit" "$([ -n "$toolkit" ] && echo ok || echo missing)" 0 "nvcc ${toolkit:-not found} (needed only to build there)"
row "image: glibc" "$glibc_ok" 0 "here ${glibc_here:-?}, carried binaries need ${glibc_needed:-? (no MANIFEST)}"
row "image: sanitizer" "$([ -n "$sanitizer" ] && echo ok || echo missing)" 0 "${sanitizer:-not found: sanitizer phase skipped}"
row "image: cublas" "$([ -n "$cublas_dir" ] && echo ok || echo missing)" 0 "${cublas_dir:-libcublas.so.13 not found}"
row "image: torch" "$([ "${torch% *}" != none ] && echo ok || echo missing)" 0 "$torch"
# The persistent kernels' registers per thread and local memory (columns of kernel-resources.sh).
if [ -f build-gpu/kernel-resources.txt ]; then
  resources=$(awk 'NR > 1 && match($0, /Persistent(Forward|Backward), (true|false)/) {
      k = substr($0, RSTART + 10, RLENGTH - 10); sub(/, true/, " cluster", k); sub(/, false/, " cta", k)
      printf "%s %s regs, stack %s, spills %s/%s; ", k, $2, $3, $4, $5 }' build-gpu/kernel-resources.txt)
  row "image: kernel resources" "$(echo "$resources" | grep -qE 'stack [1-9]|spills [1-9]|/[1-9]' && echo LOCAL || echo ok)" 0 \
    "${resources:-no persistent kernels in kernel-resources.txt}"
else
  row "image: kernel resources" missing 0 "no build-gpu/kernel-resources.txt (scripts/gpu-prepare.sh writes it)"
fi
say "image: ${gpu:-no GPU}; glibc $glibc_here (need $glibc_needed); sanitizer ${sanitizer:-none}; cuBLAS ${cublas_dir:-none}"

# --- binaries ----------------------------------------------------------------------------------
t=$SECONDS
src_dir=$(sed -n 's/^source_dir=//p' build-gpu/MANIFEST 2>/dev/null)
if [ ! -x "$work/tests/test_cuda_gpu" ] && [ -f build-gpu/bundle.tar.xz ]; then
  timeout "$(deadline 60 400)" tar -C "$root" -xJf build-gpu/bundle.tar.xz && say "unpacked build-gpu/bundle.tar.xz"
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
if ! timeout 30 "$work/tests/test_cuda_gpu" --gtest_list_tests >"$detail/list.log" 2>&1 && [ "$dry" -eq 1 ]; then
  row binaries FAIL $((SECONDS - t)) "no carried binaries that start here ($(head -c 200 "$detail/list.log" | tr '\n' ' ')): run scripts/gpu-prepare.sh"
  finish 2
elif ! timeout 30 "$work/tests/test_cuda_gpu" --gtest_list_tests >/dev/null 2>&1; then
  say "carried binaries do not start here ($(head -c 300 "$detail/list.log")); building for sm_90 here"
  binaries=built
  build_limit=$(deadline 240 240)
  prefix=/tmp/ctrnn-deps
  timeout "$build_limit" bash -c '
    set -e
    work=$1 prefix=$2
    if [ -d "$work/deps/googletest-src" ]; then
      cmake -S "$work/deps/googletest-src" -B /tmp/ctrnn-gtest -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$prefix"
      cmake --build /tmp/ctrnn-gtest -j "$(nproc)"
      cmake --install /tmp/ctrnn-gtest
      cp -r "$work/deps/prefix/." "$prefix/"
    fi
    cmake -S . -B build-gpu-here -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTRNN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DCTRNN_BLAS=OFF -DCMAKE_PREFIX_PATH="$prefix"
    cmake --build build-gpu-here -j "$(nproc)"
  ' _ "$work" "$prefix" >"$detail/build.log" 2>&1
  rc=$?
  work=build-gpu-here
  if [ $rc -ne 0 ] || ! timeout 30 "$work/tests/test_cuda_gpu" --gtest_list_tests >/dev/null 2>&1; then
    row binaries FAIL $((SECONDS - t)) "carried binaries do not start, and the build here failed (rc $rc; build.log in detail)"
    finish 2
  fi
fi
tests=()
for b in "$work"/tests/test_*; do [ -f "$b" ] && [ -x "$b" ] && tests+=("$b"); done
row binaries ok $((SECONDS - t)) "$binaries: ${#tests[@]} test binaries in $work"
say "binaries: $binaries, ${#tests[@]} test binaries"

# One process per gtest suite: "binary filter" lines. Suites of more than 8 tests (the
# parameterized size sweeps) get one process per test, so one slow case does not hold the rest.
: >"$detail/jobs"
for b in "${tests[@]}"; do
  timeout 30 "$b" --gtest_list_tests 2>/dev/null | awk -v bin="$b" '
    /^[^ ]/ { suite = $1; next }
    /^  /   { name = $1; tests[suite] = tests[suite] " " name; n[suite]++ }
    END {
      for (s in n) {
        if (n[s] > 8) { split(substr(tests[s], 2), t, " "); for (i in t) print bin, s t[i] }
        else print bin, s "*"
      }
    }' >>"$detail/jobs"
done
# Started in order of what a short run must answer first (xargs starts them in file order).
awk '{ p = 9
       if ($1 ~ /test_cuda_gpu$/) {
         p = 5
         if ($2 ~ /^CudaPrimitives\./) p = 1; else if ($2 ~ /^CudaBackendState\./) p = 2
         else if ($2 ~ /PersistentGpu/) p = 3; else if ($2 ~ /CudaBackendVsCpu\./) p = 4
       }
       print p, NR, $0 }' "$detail/jobs" | sort -k1,1n -k2,2n | cut -d' ' -f3- >"$detail/jobs.ordered"
mv "$detail/jobs.ordered" "$detail/jobs"
jobs=$(wc -l <"$detail/jobs")

if [ "$dry" -eq 1 ]; then
  row correctness planned 0 "$jobs processes (one per suite; sizes sweeps one per test), CTRNN_CUDA_SYNC_CHECK=1; first: $(head -3 "$detail/jobs" | awk '{print $2}' | tr '\n' ' ')"
  row probe "$([ -x "$work/bench/gpu_probe" ] && echo planned || echo missing)" 0 "$work/bench/gpu_probe"
  row sanitizer "$([ -n "$sanitizer" ] && echo planned || echo skipped)" 0 "memcheck; racecheck, initcheck, synccheck on kns=ctrnn"
  for b in bench_forward bench_train_step bench_recurrence; do
    row "timings: $b" "$([ -x "$work/bench/$b" ] && echo planned || echo missing)" 0 "$work/bench/$b"
  done
  row nn4n "$([ -f bench/nn4n-1.1.1-py3-none-any.whl ] && echo planned || echo missing)" 0 "bench/peer_bench.py with the bundled wheel"
  finish 0
fi

# --- correctness -------------------------------------------------------------------------------
t=$SECONDS
limit=$(deadline 170 315)
say "correctness: $jobs processes, at most $limit s"
export GPU_CHECK_DETAIL=$detail
mkdir -p "$detail/tests"
# shellcheck disable=SC2016
timeout "$limit" xargs -r -P 12 -L 1 sh -c '
  bin=$1 filter=$2
  key=$(basename "$bin")_$(printf %s "$filter" | tr -c "A-Za-z0-9_." _)
  CTRNN_CUDA_SYNC_CHECK=1 CTRNN_TEST_DEVIATIONS=1 "$bin" --gtest_filter="$filter" \
    --gtest_output="xml:$GPU_CHECK_DETAIL/tests/$key.xml" >"$GPU_CHECK_DETAIL/tests/$key.log" 2>&1
  echo $? >"$GPU_CHECK_DETAIL/tests/$key.rc"
' _ <"$detail/jobs"
[ $? -eq 124 ] && say "correctness: deadline reached; unfinished suites count as failed"
: >"$OUT/tests.log"
: >"$OUT/deviations.txt"
failed=0 passed=0 unfinished=0 skipped_gpu=0
while read -r bin filter; do
  key=$(basename "$bin")_$(printf %s "$filter" | tr -c 'A-Za-z0-9_.' _)
  log=$detail/tests/$key.log
  rc=$(cat "$detail/tests/$key.rc" 2>/dev/null || echo unfinished)
  counts=$(gtest_counts "$log")
  if [ "$rc" = unfinished ]; then unfinished=$((unfinished + 1)); result=UNFINISHED
  elif [ "$rc" -ne 0 ]; then failed=$((failed + 1)); result=FAIL
  else passed=$((passed + 1)); result=PASS; fi
  # On a GPU machine a skipped GPU test means the device was not seen.
  if [ "$(basename "$bin")" = test_cuda_gpu ] && ! echo "$counts" | grep -q ' 0 skipped'; then
    skipped_gpu=$((skipped_gpu + 1)); result=FAIL
  fi
  { echo "===== $(basename "$bin") $filter: $result (exit $rc; $counts)"; cat "$log" 2>/dev/null; } >>"$OUT/tests.log"
  grep -h '^\[ deviation \]' "$log" 2>/dev/null >>"$OUT/deviations.txt"
  [ "$result" != PASS ] && echo "$(basename "$bin") $filter: $result" >>"$detail/failed-suites"
done <"$detail/jobs"
[ $((failed + unfinished + skipped_gpu)) -ne 0 ] && verdict=1
row correctness "$([ $((failed + unfinished + skipped_gpu)) -eq 0 ] && echo PASS || echo FAIL)" $((SECONDS - t)) \
  "$passed of $jobs processes passed, $failed failed, $unfinished unfinished, $skipped_gpu GPU suites skipped"
[ -f "$detail/failed-suites" ] && row "  failed" - - "$(head -c 600 "$detail/failed-suites" | tr '\n' ';')"
# The largest deviation per suite (relative to each array's scale) and its tolerance.
awk '{ split($4, p, "."); s = p[1]; v = $5 + 0; if (!(s in m) || v > m[s] || $5 ~ /nan/) { m[s] = v; tol[s] = $0 } }
     END { for (s in m) { sub(/.*\(tolerance /, "", tol[s]); sub(/\)/, "", tol[s]); printf "%s %.3g %s\n", s, m[s], tol[s] } }' \
  "$OUT/deviations.txt" | sort | while read -r suite worst tol; do
  row "  deviation $suite" - - "largest $worst (tolerance $tol)"
done
say "correctness done"

# --- probe -------------------------------------------------------------------------------------
t=$SECONDS
if [ -x "$work/bench/gpu_probe" ]; then
  timeout "$(deadline 30 285)" "$work/bench/gpu_probe" >"$OUT/probe.txt" 2>&1
  rc=$?
  row probe "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) "$(grep -c '^probe:' "$OUT/probe.txt") lines in probe.txt"
else
  row probe missing 0 "no $work/bench/gpu_probe"
fi

# --- sanitizer -----------------------------------------------------------------------------------
# Small GPU tests only (the tools slow kernels 10-100x). ErrorsThrowNamingTheCall is left out of
# memcheck: its deliberate failed allocation is an API error the tool would count.
t=$SECONDS
small='CudaBackendState.*:Sizes/CudaBackendVsCpu.EveryCallMatches/relu_E1_H7_B3_T2_masks_adam'
small="$small:Sizes/CudaBackendVsCpu.EveryCallMatches/sigmoid_E8_H7_B64_T1_masks_noise_bias_uE_mTBO_reg_adam"
primitives='CudaPrimitives.*:-CudaPrimitives.ErrorsThrowNamingTheCall:CudaPrimitives.GemmTf32*:CudaPrimitives.GemmBeyond*:CudaPrimitives.ColumnSumsOfAMillion*'
shared='CudaPrimitives.ColumnSumsMatch*:CudaPrimitives.Reduce*'  # the kernels with shared memory
# The persistent recurrence kernels (shared and distributed shared memory, cluster barriers): one
# CTA and clusters of 4 and 16, tiny and small (the other small cases run them too where auto
# picks them: docs/gpu-dispatch.md).
persistent='Paths/PersistentGpu.ForcedPathMatchesTheCpuBackend/tanh_E1_H7_B1_T1_noise_*'
persistent="$persistent:Paths/PersistentGpu.ForcedPathMatchesTheCpuBackend/tanh_E1_H100_B9_T50_cluster_C4"
persistent="$persistent:Paths/PersistentGpu.ForcedPathMatchesTheCpuBackend/tanh_E1_H100_B9_T50_cluster_C16"
# learned biases and h0 over two batch tiles: the backward kernel's sums across tiles
persistent="$persistent:Paths/PersistentGpu.ForcedPathMatchesTheCpuBackend/tanh_E2_H7_B5_T3_noise_bias_*"
: >"$OUT/sanitizer.log"
if [ -n "$sanitizer" ]; then
  limit=$(deadline 90 195)
  say "sanitizer: memcheck, racecheck, initcheck, synccheck in parallel, at most $limit s"
  run_tool() {  # tool filter extra-args...
    local tool=$1 filter=$2
    shift 2
    CTRNN_CUDA_SYNC_CHECK=1 timeout "$limit" "$sanitizer" --tool "$tool" --error-exitcode 86 "$@" \
      "$work/tests/test_cuda_gpu" --gtest_filter="$filter" >"$detail/sanitizer-$tool.log" 2>&1
    echo $? >"$detail/sanitizer-$tool.rc"
  }
  run_tool memcheck "$small:$persistent:${primitives%%:-*}:-${primitives#*:-}" --leak-check full &
  run_tool racecheck "$shared:$small:$persistent" --kernel-name kns=ctrnn --racecheck-report hazard &
  run_tool initcheck "$small:$persistent" --kernel-name kns=ctrnn &
  run_tool synccheck "$shared:$small:$persistent" --kernel-name kns=ctrnn &
  wait
  for tool in memcheck racecheck initcheck synccheck; do
    rc=$(cat "$detail/sanitizer-$tool.rc" 2>/dev/null || echo 1)
    summary=$(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$detail/sanitizer-$tool.log" | sed 's/^=* *//')
    result=PASS
    if grep -q -E 'Device not supported|not supported on this' "$detail/sanitizer-$tool.log"; then
      result=N/A
    elif [ "$rc" -eq 124 ]; then
      result=TIMEOUT verdict=1
    elif [ "$rc" -ne 0 ]; then
      result=FAIL verdict=1
    fi
    row "sanitizer $tool" "$result" $((SECONDS - t)) "${summary:-no summary}; $(gtest_counts "$detail/sanitizer-$tool.log")"
    { echo "===== $tool (exit $rc)"; cat "$detail/sanitizer-$tool.log"; } >>"$OUT/sanitizer.log"
  done
else
  row sanitizer skipped 0 "compute-sanitizer not found"
fi

# --- timings -------------------------------------------------------------------------------------
t=$SECONDS
: >"$OUT/bench.log"
bench() {  # binary filter limit
  local n=$1 filter=$2 limit=$3
  [ -x "$work/bench/$n" ] || { row "timings: $n" missing 0 "no $work/bench/$n"; return; }
  timeout "$limit" "$work/bench/$n" --benchmark_filter="$filter" --benchmark_min_time=0.2 \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_out="$detail/$n.json" --benchmark_out_format=json >"$detail/$n.log" 2>&1
  local rc=$?
  row "timings: $n" "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) \
    "$(grep -c '_median' "$detail/$n.log") medians (bench.log)"
  { echo "===== $n (exit $rc)"; cat "$detail/$n.log"; } >>"$OUT/bench.log"
}
bench bench_forward '^forward_length/cuda/|^forward(_copy_yr)?/cuda/H:256/B:64/T:200/' "$(deadline 30 165)"
bench bench_train_step '^train_step(_ungraphed)?/cuda/H:256/B:64/T:200/' "$(deadline 35 130)"
bench bench_recurrence '^recurrence_[a-z_]+/cuda/[a-z]+/H:(64/B:32/T:100/E:(1|64)|(256|512)/B:64/T:200/E:1)(/|$)' \
  "$(deadline 60 70)"
# Issue 11's targets from that run, one summary row each (bench/recurrence_targets.py).
if [ -s "$detail/bench_recurrence.json" ]; then
  python3 bench/recurrence_targets.py "$detail/bench_recurrence.json" >"$detail/targets.txt" 2>&1
  { echo "===== issue 11 targets"; cat "$detail/targets.txt"; } >>"$OUT/bench.log"
  grep '^target: ' "$detail/targets.txt" | while read -r line; do
    case $line in *MISSED*) result=MISSED ;; *": met)"*) result=met ;; *missing*) result=missing ;; *) result=- ;; esac
    row "  target" "$result" - "${line#target: }"
  done
fi

# --- nn4n on the same GPU ------------------------------------------------------------------------
t=$SECONDS
limit=$(deadline 70 5)
if [ "$limit" -lt 30 ]; then
  row nn4n skipped 0 "not enough time left (${limit}s)"
elif [ -x "$work/bench/bench_forward" ] && [ "${torch##* }" = cuda ]; then
  timeout "$limit" python3 bench/peer_bench.py --device cuda --build "$work" --no-build --no-venv \
    --nn4n bench/nn4n-1.1.1-py3-none-any.whl --repetitions 3 --min-time 0.2 \
    --size 256,64,200,1 --size 256,64,200,64 --out "$detail/peer_cuda.md" >"$detail/peer_cuda.log" 2>&1
  rc=$?
  row nn4n "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) "nn4n vs ctrnn on the GPU (bench.log)"
  { echo "===== peer_bench (exit $rc)"; cat "$detail/peer_cuda.md" "$detail/peer_cuda.log" 2>/dev/null; } >>"$OUT/bench.log"
else
  row nn4n skipped 0 "no bench binaries or no PyTorch with CUDA"
fi

finish "$verdict"
