#!/usr/bin/env bash
# Prints the site-packages folder of the Python tests' dependency environment, making it first
# when it does not exist: a venv holding tests/python/requirements.txt (torch and the nvidia-*
# wheels it pulls, about 3 GB), cached under ${CTRNN_PYDEPS_CACHE:-~/.cache/ctrnn} and named by
# the Python version and the requirements' hash, so that every clone and build folder on this
# machine (and CI's clean clones) share one install. Each build keeps its own small venv that
# sees this one through a .pth file (scripts/test-python.sh), so builds never install their
# ctrnn into a shared place. Safe to run concurrently: creation is serialized by a lock and a
# half-made environment (killed mid-install) is made again.
# Usage: scripts/python-deps.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
requirements=tests/python/requirements.txt
tag=$("$python" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')
hash=$(sha256sum "$requirements" | cut -c1-12)
cache=${CTRNN_PYDEPS_CACHE:-$HOME/.cache/ctrnn}
env="$cache/pydeps-$tag-$hash"
mkdir -p "$cache"
exec 9>"$env.lock"
flock 9
if [ ! -f "$env/.complete" ]; then
  rm -rf "$env"
  echo "python-deps: making $env (tests/python/requirements.txt; torch is about 3 GB)" >&2
  "$python" -m venv "$env"
  # Relative paths in the requirements (the nn4n wheel) are relative to their file.
  (cd "$(dirname "$requirements")" &&
    "$env/bin/python" -m pip install --disable-pip-version-check -q -r "$(basename "$requirements")") >&2
  touch "$env/.complete"
fi
"$env/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
