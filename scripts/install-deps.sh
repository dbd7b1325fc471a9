#!/usr/bin/env bash
# Installs the Debian packages the build needs, only those missing. Safe to run repeatedly.
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail
packages=(cmake ninja-build g++ libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libopenblas-dev libcli11-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# OpenBLAS from PyPI (scipy-openblas32), which the build prefers to Debian's (cmake/CtrnnBlas.cmake
# says why), into the python3 the build asks. Optional: where pip cannot install (no pip, no
# network, an externally managed Python) the build uses libopenblas-dev above.
if command -v python3 >/dev/null && ! python3 -c "import scipy_openblas32" 2>/dev/null; then
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --disable-pip-version-check -q "scipy-openblas32>=0.3.34" ||
    echo "install-deps: scipy-openblas32 not installed; the build will use the system's OpenBLAS"
fi
