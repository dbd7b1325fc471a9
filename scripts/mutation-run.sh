#!/usr/bin/env bash
# A small mutation run: applies each single-line mutant of tests/mutation/mutants.tsv, one at a
# time, in a scratch clone of the current commit, builds, runs the CTest cases the mutant's row
# names, and reports whether the tests caught it (killed) or not (survived). A surviving mutant is
# a behaviour no test pins down: write the test that fails for it. Not part of CI (each mutant is
# a rebuild: minutes on 2 cores); run it after changing a test-sensitive area.
#
# Usage: scripts/mutation-run.sh [-j JOBS] [-o REPORT] [NAME_REGEX]
#   NAME_REGEX  run only the mutants whose name matches (grep -E); default all
#   -j JOBS     build and ctest parallelism (default 2)
#   -o REPORT   also write the table to REPORT (default build-mutation/report.tsv)
# Environment: CTRNN_MUTATION_DIR (scratch folder, default /tmp/ctrnn-mutation-$USER): the
# clone and its build folder are kept between runs, so later runs rebuild incrementally.
# Exit status: 0 when every mutant run was killed, 1 when one survived or could not be applied.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
jobs=2
report=""
while getopts "j:o:" opt; do
  case $opt in
    j) jobs=$OPTARG ;;
    o) report=$OPTARG ;;
    *) sed -n '8,12p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
only=${1:-.}
table="$repo/tests/mutation/mutants.tsv"
scratch=${CTRNN_MUTATION_DIR:-/tmp/ctrnn-mutation-${USER:-$(id -u)}}
work="$scratch/src"
build="$scratch/build"
report=${report:-$scratch/report.tsv}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# A scratch clone (sharing this repository's objects) at the current commit plus the working
# tree's changes (tracked and new files), committed there as the baseline each mutant starts
# from, so that uncommitted tests count.
mkdir -p "$scratch"
[ -d "$work/.git" ] || git clone -q --shared --no-checkout "$repo" "$work"
git -C "$work" fetch -q "$repo" HEAD
git -C "$work" checkout -q --detach FETCH_HEAD
git -C "$work" reset -q --hard
git -C "$work" clean -q -fd
git -C "$repo" diff HEAD --binary | git -C "$work" apply --allow-empty
git -C "$repo" ls-files --others --exclude-standard -z | (cd "$repo" && xargs -0 -r cp --parents -t "$work")
git -C "$work" add -A
git -C "$work" -c user.name=mutation-run -c user.email=mutation-run@localhost commit -q --allow-empty -m baseline
restore() { git -C "$work" checkout -q -- .; }

cmake -S "$work" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTRNN_CUDA=OFF "${launcher[@]}" >"$scratch/configure.log" 2>&1 ||
  { echo "mutation-run: configure failed, see $scratch/configure.log" >&2; exit 2; }
echo "mutation-run: baseline build (unmutated) in $build" >&2
cmake --build "$build" -j"$jobs" >"$scratch/baseline-build.log" 2>&1 ||
  { echo "mutation-run: the unmutated tree does not build, see $scratch/baseline-build.log" >&2; exit 2; }

printf 'mutant\tresult\tseconds\ttests\n' >"$report"
killed=0 survived=0 other=0
# Fields split at tabs turned into unit separators: a tab in IFS would merge the empty field of a
# replacement that deletes the text with its neighbours.
while IFS=$'\037' read -r -u 3 name file original replacement tests; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ "$name" =~ $only ]] || continue
  start=$(date +%s)
  restore
  # Exactly one line must hold the original text; it is replaced there.
  if ! python3 - "$work/$file" "$original" "$replacement" <<'PY'
import sys
path, original, replacement = sys.argv[1:4]
try:
    lines = open(path).read().split("\n")
except OSError as e:
    sys.exit(f"cannot read {path}: {e}")
hits = [i for i, line in enumerate(lines) if original in line]
if len(hits) != 1:
    sys.exit(f"{len(hits)} lines of {path} hold the original text")
lines[hits[0]] = lines[hits[0]].replace(original, replacement)
open(path, "w").write("\n".join(lines))
PY
  then
    result="not-applied"
  elif ! cmake --build "$build" -j"$jobs" >"$scratch/$name.build.log" 2>&1; then
    result="build-failed"  # not a test's catch: the mutant itself is wrong
  elif ctest --test-dir "$build" -j"$jobs" -R "$tests" --timeout 600 >"$scratch/$name.ctest.log" 2>&1; then
    result="SURVIVED"
  elif grep -q "No tests were found" "$scratch/$name.ctest.log"; then
    result="no-tests"
  else
    result="killed"
  fi
  case $result in
    killed) killed=$((killed + 1)) ;;
    SURVIVED) survived=$((survived + 1)) ;;
    *) other=$((other + 1)) ;;
  esac
  seconds=$(($(date +%s) - start))
  printf '%s\t%s\t%s\t%s\n' "$name" "$result" "$seconds" "$tests" | tee -a "$report"
done 3< <(tr '\t' '\037' <"$table")
restore
cmake --build "$build" -j"$jobs" >/dev/null 2>&1 || true  # leave the build unmutated
echo "mutation-run: $killed killed, $survived survived, $other not run (not-applied, build-failed, no-tests); $report"
[ "$survived" -eq 0 ] && [ "$other" -eq 0 ]
