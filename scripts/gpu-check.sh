#!/usr/bin/env bash
# The ONE script for a machine with an H100/H200-class GPU (the device image: nvcc 13, CMake,
# ninja, compute-sanitizer, PyTorch; no gtest, benchmark or nlohmann-json packages; no network).
# One call answers as much as it can in about 8 minutes (GPU_CHECK_BUDGET_S, default 480: the
# device tool's 10-minute call less the machine's start and the transfers, within a session's 15
# minutes of device time); each phase has a deadline and appends its summary row to
# $OUT/summary.txt as it ends, so a run killed at its limit still returns what it learned; every
# command runs under `timeout -k` (SIGKILL 10 s after SIGTERM: a process stuck in the driver
# ignores SIGTERM). Phases:
#   glibc        first, before anything runs: this machine's glibc against the newest one the
#                carried binaries need (build-gpu/MANIFEST); older: the fallback build is the plan
#   image        GPU, driver, CUDA toolkit, compute-sanitizer, cuBLAS 13 (the CUDA install, pip's
#                nvidia/cu13 and nvidia/cublas wheels in every site-packages, ldconfig -p; every
#                find listed), PyTorch; the kernels' registers, stack and spills as ptxas gave them
#                at build time (build-gpu/kernel-resources.txt, scripts/kernel-resources.sh), in env.txt
#   binaries     unpacks build-gpu/bundle.tar.xz (scripts/gpu-prepare.sh); when the carried
#                binaries cannot start, builds the tests (not the benchmarks) there for sm_90,
#                test_cuda_gpu first, against the test dependencies the bundle carries, within a
#                deadline that leaves correctness and the sanitizers their share
#   correctness  every gtest suite in its own process (a crash or hang costs one suite), started
#                in this order: CudaPrimitives, CudaBackendState, PersistentGpu (every path of
#                the recurrence), CudaBackendVsCpu, the other GPU suites, then the rest; GPU
#                suites with CTRNN_CUDA_SYNC_CHECK=1 (a fault names its kernel) and
#                CTRNN_TEST_DEVIATIONS=1: the largest deviation of every GPU-CPU comparison,
#                passing or not, in deviations.txt and per suite in the summary
#   probe        bench/gpu_probe: launch latency on a stream and in a graph, cluster barrier plus
#                distributed-shared-memory exchange per step for cluster sizes 1-16, active
#                clusters at ~200 KB of shared memory, cuBLAS 256x64x256 (the next design step)
#   sanitizer    compute-sanitizer, each tool on what it can judge in its time: memcheck on small
#                calls of the backend, the persistent kernels and the primitives without GEMMs;
#                synccheck on the project's own kernels (--kernel-name kns=ctrnn: not cuBLAS),
#                racecheck on those with shared memory but the persistent ones; initcheck on
#                primitives none of whose inputs cuBLAS writes (it does not instrument cuBLAS);
#                a tool past its deadline is TIMEOUT, not a failure
#   timings      bench_forward at T = 1, 10, 100, 1000 and E = 1, 64 (outputs left on the device,
#                and once with y and r copied back), bench_train_step graphed and ungraphed,
#                bench_recurrence, one size at a time (a JSON and a summary row each, one
#                repetition): forward and forward + BPTT per recurrence path (sequence,
#                persistent CTA, persistent cluster) and the persistent kernels' barrier floor at
#                issue 11's sizes, then its targets (bench/recurrence_targets.py: per-step time at
#                (256, 64) and (512, 64), E = 64 over E = 1 at (64, 32, 100), time per step over
#                the barrier floor, fraction of fp32 peak) as summary rows
#   python       the Python package as a user installs it (pip install ., CUDA on, sm_90; built in
#                the background from the binaries phase on, with PyPI's OpenBLAS carried as a
#                wheel in build-gpu/), then its GPU tests (tests/python/test_gpu.py, test_info.py,
#                test_torch_module.py's CUDA cases; a skip counts as a failure) and
#                bench/torch_loop_bench.py --device cuda (nn4n's training loop, ctrnn.torch
#                against nn4n on the GPU)
#   nn4n         bench/peer_bench.py: nn4n (the bundled wheel, PyTorch there) against ctrnn on
#                the same GPU at (H, B, T) = (256, 64, 200), E = 1 (nn4n's E = 64, 64 models in
#                turn, does not fit the phase: 50 s were not enough on an H200)
#   dispatch     with the time left (a run with GPU_CHECK_BUDGET_S=550 leaves it ~70 s): every
#                recurrence path over bench_recurrence's dispatch grid, the table that the
#                dispatch rule is judged on (bench/recurrence_targets.py --dispatch)
# Usage (device tool), after scripts/gpu-prepare.sh here:
#   run(command="bash scripts/gpu-check.sh", carry=["build-gpu"], timeout_s=600)
#   bash scripts/gpu-check.sh --dry-run   the image and binaries checks and every phase's plan,
#                                          running nothing on a GPU (works without one); it also
#                                          exercises the fallback build as if the carried binaries
#                                          did not start (configured, not built)
# GPU_CHECK_FAKE_NO_START=1 makes a real run take the fallback build whatever the binaries do.
# $OUT (default ./gpu-check-out) receives at most 8 files: summary.txt, env.txt, tests.log,
# deviations.txt, probe.txt, sanitizer.log, bench.log, detail.tar.gz (logs, gtest XML, benchmark
# JSON, build.log when it built there, python-build.log and python-tests.log).
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
scratch=$(mktemp -d)  # the dry run's fallback build and the bundle's dependencies (not reported)
verdict=0
work=build-gpu-work

say() { printf '[gpu-check %3ds] %s\n' $((SECONDS - t0)) "$*"; }
# timeout, and SIGKILL 10 s after SIGTERM: a process stuck in the driver ignores SIGTERM and
# would hold the whole call past its limit.
run_for() { timeout -k 10 "$@"; }
# row STEP RESULT SECONDS NOTES: appended to summary.txt at once (and the detail archive
# refreshed), so whatever ends the run, what is done is reported.
row() {
  printf '%-28s %-8s %5ss  %s\n' "$1" "$2" "$3" "$4" >>"$OUT/summary.txt"
  tar -C "$detail" -czf "$OUT/detail.tar.gz" . 2>/dev/null
}
# Seconds a phase may take: its own budget, within what is left of the whole run less `keep`
# seconds kept for the phases after it; at least 10 s (or what is left) when that is exhausted.
# The keeps are sized for the default 480 s; a smaller budget shrinks them in proportion (else
# the first phases would get their 10 s minimum: GPU_CHECK_BUDGET_S=330 once left correctness 10 s).
deadline() {  # phase_budget keep
  local keep=$(($2 * (budget < 480 ? budget : 480) / 480))
  local left=$((budget - (SECONDS - t0) - keep)) total=$((budget - (SECONDS - t0)))
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
  rm -rf "$detail" "$scratch"
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

# --- glibc, before anything runs: carried binaries built against a newer glibc than this
# machine's do not start, and the fallback build here is then the plan from the start.
glibc_here=$(ldd --version 2>&1 | head -1 | grep -oE '[0-9]+\.[0-9]+$')
glibc_needed=$(sed -n 's/^glibc_needed=//p' build-gpu/MANIFEST 2>/dev/null)
glibc_ok=unknown
if [ -n "$glibc_here" ] && [ -n "$glibc_needed" ]; then
  if [ "$(printf '%s\n%s\n' "$glibc_needed" "$glibc_here" | sort -V | tail -1)" = "$glibc_here" ]; then glibc_ok=yes; else glibc_ok=no; fi
fi
say "glibc here ${glibc_here:-?}; the carried binaries need ${glibc_needed:-? (no build-gpu/MANIFEST)}"
row "image: glibc" "$glibc_ok" 0 "here ${glibc_here:-?}, carried binaries need ${glibc_needed:-? (no MANIFEST)}$(
  [ "$glibc_ok" = no ] && echo ': the fallback build here is the plan')"

# --- image -----------------------------------------------------------------------------------
t=$SECONDS
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
gpu=$(run_for 15 nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>/dev/null | head -1)
cuda_driver=$(run_for 15 nvidia-smi 2>/dev/null | grep -oE 'CUDA Version: [0-9.]+' | head -1)
toolkit=$(nvcc --version 2>/dev/null | grep -oE 'release [0-9.]+' | head -1)
sanitizer=$(command -v compute-sanitizer 2>/dev/null || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -z "$sanitizer" ] && [ -x "$c" ] && sanitizer=$c
done
# cuBLAS 13 (the library loads libcublas.so.13 at its first use): the CUDA install, pip's CUDA
# wheels (nvidia/cu13/lib of the CUDA 13 wheels, nvidia/cublas/lib of older ones) in every
# site-packages, and what the dynamic linker knows (ldconfig -p). All finds are listed in env.txt.
cublas_found=()
site_dirs=$(run_for 20 python3 -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()] + sys.path))' 2>/dev/null)
ldconfig_dirs=$(ldconfig -p 2>/dev/null | awk '/libcublas\.so\.13/ { sub(/\/[^\/]*$/, "", $NF); print $NF }')
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
  $(for sp in $site_dirs; do echo "$sp/nvidia/cu13/lib" "$sp/nvidia/cu13/lib64" "$sp/nvidia/cublas/lib"; done) $ldconfig_dirs; do
  if ls "$d"/libcublas.so.13* >/dev/null 2>&1; then
    d=$(readlink -f "$d")  # one entry per real folder (lib, lib64 and targets/... are often links)
    case " ${cublas_found[*]} " in *" $d "*) ;; *) cublas_found+=("$d") ;; esac
  fi
done
cublas_dir=${cublas_found[0]:-}
cublas_12=$(ldconfig -p 2>/dev/null | grep -m1 -oE '/[^ ]*libcublas\.so\.12[^ ]*' || true)
export LD_LIBRARY_PATH="${cublas_dir:+$cublas_dir:}$root/$work/bench:${LD_LIBRARY_PATH:-}"
torch=$(run_for 30 python3 -c 'import torch; print(torch.__version__, "cuda" if torch.cuda.is_available() else "no-cuda")' 2>/dev/null || echo none)
{
  echo "== host: $(uname -srm), $(nproc) cores, glibc ${glibc_here:-?}"
  echo "== nvidia-smi"; run_for 15 nvidia-smi 2>&1 | head -25
  echo "== compute-sanitizer: ${sanitizer:-not found}"; [ -n "$sanitizer" ] && "$sanitizer" --version 2>&1 | tail -2
  echo "== nvcc: ${toolkit:-not found}"
  echo "== cuBLAS 13: ${cublas_found[*]:-not found} (used: ${cublas_dir:-none}); libcublas.so.12: ${cublas_12:-none}"
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
row "image: sanitizer" "$([ -n "$sanitizer" ] && echo ok || echo missing)" 0 "${sanitizer:-not found: sanitizer phase skipped}"
row "image: cublas" "$([ -n "$cublas_dir" ] && echo ok || echo missing)" 0 \
  "${cublas_dir:-libcublas.so.13 not found (Device::Auto then falls back to the CPU)}; found ${#cublas_found[@]}: ${cublas_found[*]:-}${cublas_12:+; also $cublas_12}"
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
  run_for "$(deadline 60 400)" tar -C "$root" -xJf build-gpu/bundle.tar.xz && say "unpacked build-gpu/bundle.tar.xz"
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
# The fallback when the carried binaries cannot start: the tests (not the benchmarks) built here
# for sm_90 from this checkout, test_cuda_gpu first, against the test dependencies the bundle
# carries (build-gpu-work/deps: googletest's sources, nlohmann-json, CLI11), found there only
# (CMAKE_FIND_ROOT_PATH: a dependency the bundle lacks fails here as on the GPU machine, which
# has none of them). build_here LIMIT DIR [configure]: with "configure", up to the configure step.
build_here() {
  run_for "$1" bash -c '
    set -ex
    deps=$1 dir=$2 mode=$3 prefix=$2-deps
    rm -rf "$prefix" "$dir-gtest"
    mkdir -p "$prefix"
    cp -r "$deps/prefix/." "$prefix/"
    cmake -S "$deps/googletest-src" -B "$dir-gtest" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix"
    cmake --build "$dir-gtest" -j "$(nproc)"
    cmake --install "$dir-gtest"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTRNN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DCTRNN_BLAS=OFF -DCTRNN_BUILD_BENCH=OFF -DCMAKE_FIND_ROOT_PATH="$prefix" -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY
    [ "$mode" = configure ] && exit 0
    cmake --build "$dir" -j "$(nproc)" --target test_cuda_gpu
    cmake --build "$dir" -j "$(nproc)"
  ' _ "$deps_dir" "$2" "${3:-build}" >>"$detail/build.log" 2>&1
}
# The carried dependencies: unpacked with the bundle, or (where the binaries are already here,
# as after gpu-prepare.sh on the machine that built them) taken from the bundle alone.
deps_dir=$root/build-gpu-work/deps
if [ ! -d "$deps_dir" ] && [ -f build-gpu/bundle.tar.xz ]; then
  run_for 60 tar -C "$scratch" -xJf build-gpu/bundle.tar.xz ./build-gpu-work/deps && deps_dir=$scratch/build-gpu-work/deps
fi
binaries=carried
why_build=""  # why the fallback runs ("": the carried binaries start)
if [ "$glibc_ok" = no ]; then
  why_build="glibc $glibc_here here, the carried binaries need $glibc_needed"
elif [ "${GPU_CHECK_FAKE_NO_START:-0}" = 1 ]; then
  why_build="carried binaries do not start (faked: GPU_CHECK_FAKE_NO_START=1)"
elif ! run_for 30 "$work/tests/test_cuda_gpu" --gtest_list_tests >"$detail/list.log" 2>&1; then
  why_build="carried binaries do not start ($(head -c 300 "$detail/list.log" | tr '\n' ' '))"
fi
if [ "$dry" -eq 1 ]; then
  # The plan, and the fallback path exercised as if the carried binaries did not start:
  # configured here against the carried dependencies alone (not built: no GPU time is at stake).
  say "dry run: the fallback build as if the carried binaries did not start (configure only)"
  build_here "$(deadline 240 0)" "$scratch/fallback" configure
  rc=$?
  row "binaries: fallback" "$([ $rc -eq 0 ] && echo ok || echo FAIL)" $((SECONDS - t)) \
    "configure against the carried dependencies only: rc $rc (build.log in detail)"
  [ $rc -ne 0 ] && verdict=1
  if [ -n "$why_build" ]; then
    row binaries "$([ "$glibc_ok" = no ] && echo fallback || echo FAIL)" $((SECONDS - t)) \
      "$why_build: the fallback build would run here; no list of tests to plan from"
    finish "$([ $verdict -ne 0 ] && echo 1 || echo 2)"
  fi
elif [ -n "$why_build" ]; then
  build_limit=$(deadline 220 250)  # correctness and the sanitizers keep their share
  say "$why_build; building the tests for sm_90 here, at most $build_limit s"
  binaries=built
  build_here "$build_limit" "$root/build-gpu-here"
  rc=$?
  work=build-gpu-here
  if ! run_for 30 "$work/tests/test_cuda_gpu" --gtest_list_tests >/dev/null 2>&1; then
    row binaries FAIL $((SECONDS - t)) "$why_build, and the build here gave no test_cuda_gpu (rc $rc; build.log in detail)"
    finish 2
  fi
  [ $rc -ne 0 ] && say "the build here stopped (rc $rc) after test_cuda_gpu: the tests built so far run"
fi
tests=()
for b in "$work"/tests/test_*; do [ -f "$b" ] && [ -x "$b" ] && tests+=("$b"); done
row binaries ok $((SECONDS - t)) "$binaries: ${#tests[@]} test binaries in $work${why_build:+ ($why_build)}"
say "binaries: $binaries, ${#tests[@]} test binaries"

# The Python package, built now in the background (8 of the cores; the GPU suites need few) so
# that it is ready by the python phase: `pip install .` as a user runs it, CUDA on, into a folder
# of its own, with PyPI's OpenBLAS from the wheel gpu-prepare.sh carries (the image has neither
# it nor a network) and nlohmann-json from the carried dependencies; nanobind,
# scikit-build-core, numpy and torch are the image's. Not stripped: a crash's backtrace names
# the module's functions.
pysite=$scratch/pysite
openblas_wheel=$(ls build-gpu/scipy_openblas32-*.whl 2>/dev/null | head -1)
python_build() {
  python3 -m pip install -q --no-index --no-deps --target "$pysite" "$openblas_wheel" &&
    PYTHONPATH=$pysite CTRNN_CUDA=ON CMAKE_BUILD_PARALLEL_LEVEL=8 \
      CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH=$deps_dir/prefix" \
      python3 -m pip install -v --no-index --no-build-isolation --no-deps --target "$pysite" \
      -C "build-dir=$scratch/python-build" -C install.strip=false .
}
if [ "$dry" -eq 0 ] && [ -n "$openblas_wheel" ]; then
  export pysite openblas_wheel deps_dir scratch
  (run_for "$(deadline 400 0)" bash -c "$(declare -f python_build); python_build" >"$detail/python-build.log" 2>&1
   echo $? >"$detail/python-build.rc") &
  say "python: pip install . started in the background"
fi

# One process per gtest suite: "binary filter" lines. Suites of more than 8 tests (the
# parameterized size sweeps) get one process per test, so one slow case does not hold the rest.
: >"$detail/jobs"
for b in "${tests[@]}"; do
  run_for 30 "$b" --gtest_list_tests 2>/dev/null | awk -v bin="$b" '
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
  row sanitizer "$([ -n "$sanitizer" ] && echo planned || echo skipped)" 0 "memcheck; racecheck (shared-memory primitives), initcheck, synccheck on kns=ctrnn"
  row python "$([ -n "$openblas_wheel" ] && echo planned || echo missing)" 0 \
    "pip install . (CUDA, ${openblas_wheel:-no scipy-openblas32 wheel in build-gpu/}); GPU tests; torch_loop_bench --device cuda"
  for b in bench_forward bench_train_step bench_recurrence; do
    row "timings: $b" "$([ -x "$work/bench/$b" ] && echo planned || echo missing)" 0 "$work/bench/$b"
  done
  row "  recurrence" planned 0 "4 sizes, one run each, a JSON and a row per size; then issue 11's targets"
  row nn4n "$([ -f bench/nn4n-1.1.1-py3-none-any.whl ] && echo planned || echo missing)" 0 "bench/peer_bench.py with the bundled wheel"
  row dispatch planned 0 "bench_recurrence over the dispatch grid (T = 50) with the time left"
  finish "$verdict"
fi

# --- correctness -------------------------------------------------------------------------------
t=$SECONDS
limit=$(deadline 150 330)
say "correctness: $jobs processes, at most $limit s"
export GPU_CHECK_DETAIL=$detail
mkdir -p "$detail/tests"
# shellcheck disable=SC2016
run_for "$limit" xargs -r -P 12 -L 1 sh -c '
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
  run_for "$(deadline 25 305)" "$work/bench/gpu_probe" >"$OUT/probe.txt" 2>&1
  rc=$?
  row probe "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) "$(grep -c '^probe:' "$OUT/probe.txt") lines in probe.txt"
else
  row probe missing 0 "no $work/bench/gpu_probe"
fi

# --- sanitizer -----------------------------------------------------------------------------------
# Small GPU tests only (the tools slow kernels 10-100x), each tool on what it can judge within its
# deadline: memcheck (every kernel, cuBLAS's too, and the API calls; not ErrorsThrowNamingTheCall,
# whose deliberate failed allocation is an API error it would count) on two small calls of the
# backend, the persistent kernels and the primitives with shared memory, not whole suites (which
# do not fit); synccheck on the project's own kernels (kns=ctrnn); racecheck on the primitives
# with shared memory only (on an H200, 2026-12-04, it finished those in 31 s with no hazard but
# not one tiny persistent case, H 100 B 9 T 50 with a cluster of 4, in 170 s; memcheck and
# synccheck judge the persistent kernels, the GPU tests their results); initcheck only
# where no input of a kernel comes from cuBLAS, which it does not instrument (what cuBLAS writes
# reads as uninitialized): the primitives without GEMMs. A tool that reaches its deadline is
# reported as TIMEOUT: no verdict on the code, not a failure.
t=$SECONDS
calls='Sizes/CudaBackendVsCpu.EveryCallMatches/relu_E1_H7_B3_T2_masks_adam'
calls="$calls:Sizes/CudaBackendVsCpu.EveryCallMatches/sigmoid_E8_H7_B64_T1_masks_noise_bias_uE_mTBO_reg_adam"
small="CudaBackendState.*:$calls"
shared='CudaPrimitives.ColumnSumsMatch*:CudaPrimitives.Reduce*'  # the kernels with shared memory
no_gemm="$shared:CudaPrimitives.TransfersCopiesAndFills:CudaPrimitives.NoiseEqualsTheHostDraws"
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
  limit=$(deadline 75 230)
  say "sanitizer: memcheck, racecheck, initcheck, synccheck in parallel, at most $limit s"
  run_tool() {  # tool filter extra-args...
    local tool=$1 filter=$2
    shift 2
    CTRNN_CUDA_SYNC_CHECK=1 run_for "$limit" "$sanitizer" --tool "$tool" --error-exitcode 86 "$@" \
      "$work/tests/test_cuda_gpu" --gtest_filter="$filter" >"$detail/sanitizer-$tool.log" 2>&1
    echo $? >"$detail/sanitizer-$tool.rc"
  }
  run_tool memcheck "$calls:$persistent:$no_gemm" --leak-check full &
  run_tool racecheck "$shared" --kernel-name kns=ctrnn --racecheck-report hazard &
  run_tool initcheck "$no_gemm" --kernel-name kns=ctrnn &
  run_tool synccheck "$shared:$small:$persistent" --kernel-name kns=ctrnn &
  wait
  for tool in memcheck racecheck initcheck synccheck; do
    rc=$(cat "$detail/sanitizer-$tool.rc" 2>/dev/null || echo 1)
    summary=$(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$detail/sanitizer-$tool.log" | sed 's/^=* *//')
    result=PASS
    if grep -q -E 'Device not supported|not supported on this' "$detail/sanitizer-$tool.log"; then
      result=N/A
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      result=TIMEOUT
    elif [ "$rc" -ne 0 ]; then
      result=FAIL verdict=1
    fi
    row "sanitizer $tool" "$result" $((SECONDS - t)) "${summary:-no summary}; $(gtest_counts "$detail/sanitizer-$tool.log")"
    { echo "===== $tool (exit $rc)"; cat "$detail/sanitizer-$tool.log"; } >>"$OUT/sanitizer.log"
  done
else
  row sanitizer skipped 0 "compute-sanitizer not found"
fi

# --- python ------------------------------------------------------------------------------------
# The build started after the binaries phase: waited for within this phase's deadline, then the
# package's GPU tests (a skip is a failure here: the device is there) and nn4n's loop on the GPU.
t=$SECONDS
py_end=$((SECONDS + $(deadline 80 150)))
if [ -z "$openblas_wheel" ]; then
  row python missing 0 "no build-gpu/scipy_openblas32-*.whl (scripts/gpu-prepare.sh downloads it)"
else
  while [ ! -f "$detail/python-build.rc" ] && [ $SECONDS -lt $py_end ]; do sleep 2; done
  rc=$(cat "$detail/python-build.rc" 2>/dev/null || echo unfinished)
  row "python: build" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" $((SECONDS - t)) \
    "pip install . with CUDA: rc $rc (python-build.log in detail; its tail in tests.log)"
  if [ "$rc" != 0 ]; then
    verdict=1
    { echo "===== python build (rc $rc)"; tail -60 "$detail/python-build.log"; } >>"$OUT/tests.log"
  else
    py_tests=(tests/python/test_gpu.py tests/python/test_info.py tests/python/test_torch_module.py -k "cuda or gpu or info")
    PYTHONPATH=$pysite run_for "$((py_end - SECONDS > 20 ? py_end - SECONDS : 20))" python3 -m pytest -p no:cacheprovider \
      -q -rs "${py_tests[@]}" --junitxml="$detail/python-tests.xml" >"$detail/python-tests.log" 2>&1
    rc=$?
    # Killed by a signal (a crash in the extension): the same tests under cuda-gdb, up to the
    # first failure, for the native backtrace (the module is built with its symbols).
    if [ "$rc" -gt 128 ] && [ "$rc" -ne 137 ] && command -v cuda-gdb >/dev/null; then
      PYTHONPATH=$pysite run_for "$(deadline 45 150)" cuda-gdb -q -batch -ex run -ex bt --args \
        python3 -m pytest -p no:cacheprovider -x -q "${py_tests[@]}" >"$detail/python-gdb.log" 2>&1
      { echo "===== python crash: cuda-gdb backtrace"; grep -E '^#[0-9]+ ' "$detail/python-gdb.log" | head -25; } \
        >>"$OUT/tests.log"
    fi
    counts=$(python3 - "$detail/python-tests.xml" <<'PY' 2>/dev/null || echo "no junit XML"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
s = root if root.tag == "testsuite" else root.find("testsuite")
t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(f"{t - f - e - k} passed, {f + e} failed, {k} skipped")
PY
)
    result=PASS
    if [ "$rc" -ne 0 ] || ! echo "$counts" | grep -q ' 0 failed, 0 skipped'; then result=FAIL verdict=1; fi
    row "python: GPU tests" "$result" $((SECONDS - t)) "pytest rc $rc: $counts"
    { echo "===== python GPU tests: $result (exit $rc; $counts)"; cat "$detail/python-tests.log"; } >>"$OUT/tests.log"
    PYTHONPATH=$pysite run_for "$(deadline 40 110)" python3 bench/torch_loop_bench.py --device cuda --min-time 0.2 \
      --blocks 5 --nn4n bench/nn4n-1.1.1-py3-none-any.whl --out "$detail/torch_loop_cuda.md" \
      >"$detail/torch_loop_cuda.log" 2>&1
    rc=$?
    row "python: torch loop" "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) \
      "$(grep -E '^\| 256 ' "$detail/torch_loop_cuda.md" 2>/dev/null | awk -F'|' '{print "nn4n " $5 ", ctrnn.torch " $6 ", ratio " $7}')"
    { echo "===== torch_loop_bench --device cuda (exit $rc)"; cat "$detail/torch_loop_cuda.log"; } >>"$OUT/bench.log"
  fi
fi

# --- timings -------------------------------------------------------------------------------------
t=$SECONDS
: >"$OUT/bench.log"
bench() {  # binary filter limit
  local n=$1 filter=$2 limit=$3
  [ -x "$work/bench/$n" ] || { row "timings: $n" missing 0 "no $work/bench/$n"; return; }
  run_for "$limit" "$work/bench/$n" --benchmark_filter="$filter" --benchmark_min_time=0.2 \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_out="$detail/$n.json" --benchmark_out_format=json >"$detail/$n.log" 2>&1
  local rc=$?
  row "timings: $n" "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) \
    "$(grep -c '_median' "$detail/$n.log") medians (bench.log)"
  { echo "===== $n (exit $rc)"; cat "$detail/$n.log"; } >>"$OUT/bench.log"
}
bench bench_forward '^forward_length/cuda/|^forward(_copy_yr)?/cuda/H:256/B:64/T:200/' "$(deadline 30 120)"
bench bench_train_step '^train_step(_ungraphed)?/cuda/H:256/B:64/T:200/' "$(deadline 35 85)"
# bench_recurrence one size at a time (one repetition; 36 benchmarks, each with a new backend, do
# not fit 60 s three times over), each size its own JSON and summary row as soon as it is done, so
# a deadline costs the sizes not yet run, not the file. Issue 11's per-step targets first.
if [ -x "$work/bench/bench_recurrence" ]; then
  rec_end=$((SECONDS + $(deadline 40 50)))
  for size in H:256/B:64/T:200/E:1 H:512/B:64/T:200/E:1 H:64/B:32/T:100/E:1 H:64/B:32/T:100/E:64; do
    left=$((rec_end - SECONDS))
    if [ "$left" -lt 5 ]; then row "timings: recurrence" skipped - "$size: deadline reached"; continue; fi
    key=$(printf %s "$size" | tr -c 'A-Za-z0-9' _)
    run_for "$left" "$work/bench/bench_recurrence" --benchmark_filter="^recurrence_[a-z_]+/cuda/[a-z]+/$size(/|\$)" \
      --benchmark_min_time=0.1 --benchmark_repetitions=1 \
      --benchmark_out="$detail/recurrence_$key.json" --benchmark_out_format=json >"$detail/recurrence_$key.log" 2>&1
    rc=$?
    row "timings: recurrence" "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) \
      "$size: $(python3 bench/recurrence_targets.py --per-step "$detail/recurrence_$key.json" 2>&1 | head -c 300)"
    { echo "===== bench_recurrence $size (exit $rc)"; cat "$detail/recurrence_$key.log"; } >>"$OUT/bench.log"
  done
else
  row "timings: bench_recurrence" missing 0 "no $work/bench/bench_recurrence"
fi
# Issue 11's targets from those runs, one summary row each (bench/recurrence_targets.py).
if ls "$detail"/recurrence_*.json >/dev/null 2>&1; then
  python3 bench/recurrence_targets.py "$detail"/recurrence_*.json >"$detail/targets.txt" 2>&1
  { echo "===== issue 11 targets"; cat "$detail/targets.txt"; } >>"$OUT/bench.log"
  grep '^target: ' "$detail/targets.txt" | while read -r line; do
    case $line in *MISSED*) result=MISSED ;; *": met)"*) result=met ;; *missing*) result=missing ;; *) result=- ;; esac
    row "  target" "$result" - "${line#target: }"
  done
fi

# --- nn4n on the same GPU ------------------------------------------------------------------------
t=$SECONDS
limit=$(deadline 50 5)
if [ "$limit" -lt 30 ]; then
  row nn4n skipped 0 "not enough time left (${limit}s)"
elif [ -x "$work/bench/bench_forward" ] && [ "${torch##* }" = cuda ]; then
  run_for "$limit" python3 bench/peer_bench.py --device cuda --build "$work" --no-build --no-venv \
    --nn4n bench/nn4n-1.1.1-py3-none-any.whl --repetitions 3 --min-time 0.2 \
    --size 256,64,200,1 --out "$detail/peer_cuda.md" >"$detail/peer_cuda.log" 2>&1
  rc=$?
  row nn4n "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) "nn4n vs ctrnn on the GPU (bench.log)"
  { echo "===== peer_bench (exit $rc)"; cat "$detail/peer_cuda.md" "$detail/peer_cuda.log" 2>/dev/null; } >>"$OUT/bench.log"
else
  row nn4n skipped 0 "no bench binaries or no PyTorch with CUDA"
fi

# --- dispatch: every recurrence path over the dispatch grid (bench_recurrence's sizes at T = 50),
# with whatever time is left; the table (bench/recurrence_targets.py --dispatch) in bench.log.
t=$SECONDS
limit=$(deadline 100 0)
if [ "$limit" -lt 40 ]; then
  row dispatch skipped 0 "not enough time left (${limit}s)"
elif [ -x "$work/bench/bench_recurrence" ]; then
  run_for "$limit" "$work/bench/bench_recurrence" --benchmark_filter='^recurrence_(forward|train)/cuda/[a-z]+/H:[0-9]+/B:[0-9]+/T:50/' \
    --benchmark_min_time=0.05 --benchmark_repetitions=1 \
    --benchmark_out="$detail/dispatch.json" --benchmark_out_format=json >"$detail/dispatch.log" 2>&1
  rc=$?
  python3 bench/recurrence_targets.py --dispatch "$detail/dispatch.json" >"$detail/dispatch.txt" 2>&1
  row dispatch "$([ $rc -eq 0 ] && echo ok || echo "rc $rc")" $((SECONDS - t)) \
    "$(grep -c '^forward\|^train' "$detail/dispatch.txt") rows; $(grep '^worst' "$detail/dispatch.txt" | head -1)"
  { echo "===== dispatch grid (exit $rc)"; cat "$detail/dispatch.txt"; } >>"$OUT/bench.log"
else
  row dispatch skipped 0 "no $work/bench/bench_recurrence"
fi

finish "$verdict"
