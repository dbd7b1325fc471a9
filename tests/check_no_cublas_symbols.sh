#!/usr/bin/env bash
# Usage: check_no_cublas_symbols.sh LIBRARY (libctrnn.a or libctrnn.so)
# libctrnn must define no symbol of cuBLAS's names (cublas*): its lazy cuBLAS forwarders
# (host/cuda/cublas.hpp) have names of their own, so that they cannot stand in for the cuBLAS of
# a program or library that links ctrnn as well. Exit 1 naming the symbols found.
set -euo pipefail
lib="$1"
symbols=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF >= 3 && $3 ~ /^cublas/ {print $3}')
if [[ "$lib" == *.so* ]]; then
  symbols+=$(nm -D --defined-only "$lib" | awk 'NF >= 3 && $3 ~ /^cublas/ {print $3}')
fi
if [[ -n "$symbols" ]]; then
  echo "check_no_cublas_symbols: $lib defines cuBLAS's own symbols:" $symbols >&2
  exit 1
fi
echo "check_no_cublas_symbols: $lib defines no cublas* symbol"
