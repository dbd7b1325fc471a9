#!/usr/bin/env bash
# Builds, here (no GPU needed; nvcc 13 as on the GPU machine), every test, CLI and bench binary
# for sm_90 and packs them for a GPU session to carry, so the GPU machine only runs them
# (scripts/gpu-check.sh). Usage:
#
#   scripts/gpu-prepare.sh            # -> build-gpu/ (ignored by git), ~25 MB
#   then, with the device tool:  run(command="bash scripts/gpu-check.sh", carry=["build-gpu"], timeout_s=600)
#
# What travels in build-gpu/:
#   bundle.tar.xz   the build tree's executables (tests, benchmarks, bench/gpu_probe; stripped; libstdc++, libgcc, gtest and the CUDA
#                   runtime linked statically; cuBLAS comes from the CUDA install there), the
#                   CTest files, libbenchmark next to the bench binaries, and the sources of the
#                   test dependencies (googletest, nlohmann-json, CLI11; in build-gpu-work/deps) for a
#                   fallback build there. Unpacked there at the repository root.
#   scipy_openblas32-*.whl  PyPI's OpenBLAS for the Python package that gpu-check.sh builds there
#   MANIFEST        where and from what it was built (gpu-check.sh reads source_dir= from it)
#   kernel-resources.txt  ptxas's registers, stack and spills of the kernels for sm_90
#                   (scripts/kernel-resources.sh), reported by gpu-check.sh
# The full build tree stays in build-gpu-work/ for incremental rebuilds here.
# Environment: CTRNN_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=build-gpu-work
out=build-gpu
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null || { echo "gpu-prepare: nvcc not found (needed to build the CUDA backend)" >&2; exit 1; }
scripts/install-deps.sh

# No OpenBLAS: the GPU machine may not have it, and the carried binaries must start there.
cmake -S . -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTRNN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCTRNN_BLAS=OFF \
  -DCMAKE_EXE_LINKER_FLAGS="-static-libstdc++ -static-libgcc"
cmake --build "$work" -j "${CTRNN_JOBS:-2}"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Executables and the CTest files, at the same paths relative to the repository root.
while IFS= read -r f; do
  mkdir -p "$stage/$(dirname "$f")"
  strip -o "$stage/$f" "$f" 2>/dev/null || cp "$f" "$stage/$f"  # executables stripped, the rest copied
done < <(find "$work" -path '*/CMakeFiles' -prune -o -type f \( -perm -u+x -o -name 'CTestTestfile.cmake' \
  -o -name '*_tests.cmake' -o -name '*_include.cmake' \) -print)
# libbenchmark (Debian's soname) next to the bench binaries.
for b in "$work"/bench/bench_*; do
  [ -x "$b" ] || continue
  ldd "$b" | awk '/libbenchmark/ {print $3}' | while read -r lib; do cp -L "$lib" "$stage/$work/bench/"; done
done
# Everything a fallback build of the tests on the GPU machine needs beyond its image (no gtest,
# nlohmann-json or CLI11 packages there; gpu-check.sh configures against these alone).
deps="$stage/$work/deps"
mkdir -p "$deps/prefix/include" "$deps/prefix/share/cmake"
cp -r /usr/src/googletest "$deps/googletest-src"
cp -r /usr/include/nlohmann /usr/include/CLI "$deps/prefix/include/"
cp -r /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 "$deps/prefix/share/cmake/"

rm -rf "$out"
mkdir -p "$out"
tar -C "$stage" -cJf "$out/bundle.tar.xz" .
# PyPI's OpenBLAS for the Python package built there (gpu-check.sh's python phase): the image's
# python3 is CPython 3.12 and has no scipy-openblas32, nor a network to fetch it.
python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 -d "$out" "$(grep -oE '"scipy-openblas32[^"]*"' pyproject.toml | head -1 | tr -d '"')"
scripts/kernel-resources.sh nvcc "$root" host/cuda/persistent.cu host/cuda/leaky_step.cu host/cuda/update.cu \
  >"$out/kernel-resources.txt"
{
  echo "source_dir=$root"
  echo "work_dir=$work"
  echo "commit=$(git rev-parse HEAD)"
  echo "uncommitted_files=$(git status --porcelain --untracked-files=no | wc -l)"
  echo "built_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nvcc=$(nvcc --version | tail -1)"
  echo "glibc=$(ldd --version | head -1)"
  # The newest glibc symbol version the carried executables need (gpu-check.sh compares it with
  # the device image's glibc before trying them).
  echo "glibc_needed=$(find "$stage/$work" -type f -perm -u+x -exec objdump -T {} + 2>/dev/null |
    grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sed 's/GLIBC_//' | sort -uV | tail -1)"
  echo "executables=$(find "$stage/$work" -type f -perm -u+x -name 'test_*' -o -type f -perm -u+x -name 'bench_*' | wc -l)"
} > "$out/MANIFEST"
cat "$out/MANIFEST"
du -sh "$out"
echo "gpu-prepare: done. Carry '$out' and run: bash scripts/gpu-check.sh"
