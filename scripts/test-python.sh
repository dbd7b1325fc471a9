#!/usr/bin/env bash
# The Python package's tests: `pip install .` into a venv under the build folder, then pytest.
# Called by scripts/test.sh after CTest (the CLI tests need the CMake build's `ctrnn` program).
# Environment: CTRNN_BUILD_DIR (default build), CTRNN_JOBS (default 2), CTRNN_PYTHON_CUDA (the
# extension's CUDA backend: OFF by default, which halves CI's build time; AUTO or ON to build it,
# e.g. on a GPU machine). Extra arguments go to pytest (e.g. -k golden).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3 python3-venv python3-dev
build=$(realpath -m "${CTRNN_BUILD_DIR:-build}")
venv="$build/.venv-python"
python=${PYTHON:-python3}

# The test dependencies (torch, nn4n, scipy, hypothesis, the build tools, the CMake build's
# OpenBLAS, ...) live in one cached environment per machine (scripts/python-deps.sh); this build's
# own venv sees them through a .pth file and holds only the ctrnn built here.
deps=$(scripts/python-deps.sh "$python")
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$deps" > "$site/_ctrnn_test_deps.pth"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)

# The extension builds in a persistent folder (incremental rebuilds) with the venv's build tools.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
echo "test-python: pip install . (CUDA ${CTRNN_PYTHON_CUDA:-OFF})"
CTRNN_CUDA=${CTRNN_PYTHON_CUDA:-OFF} CMAKE_BUILD_PARALLEL_LEVEL=${CTRNN_JOBS:-2} CMAKE_ARGS="${launcher[*]}" \
  "${pip[@]}" install --no-build-isolation --no-deps -C "build-dir=$build/python" .

# pytest exits 5 when it collected nothing: that must fail too, as any other non-zero status.
set +e
CTRNN_CLI="$build/ctrnn" "$venv/bin/python" -m pytest -p no:cacheprovider tests/python -ra -q \
  --junitxml="$build/python-tests.xml" "$@"
status=$?
set -e
summary=$("$venv/bin/python" - "$build/python-tests.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
s = root if root.tag == "testsuite" else root.find("testsuite")
t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(f"{t - f - e - k} passed, {k} skipped, {f + e} failed, of {t}")
PY
)
echo "test-python: $summary"
[ "$status" -eq 0 ] || { echo "test-python: pytest exited with status $status" >&2; exit 1; }
