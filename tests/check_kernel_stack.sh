#!/usr/bin/env bash
# The kernels that draw Philox numbers (noise, growth, the persistent recurrence) keep them in
# registers: ptxas reports no stack frame and no spills for any of their entry functions on sm_90
# (issue 10, defect 6: a computed lane index, and cosf/sinf's large-argument reduction, each put a
# local array on the stack of every noise kernel). The report is scripts/kernel-resources.sh's.
# Usage: check_kernel_stack.sh NVCC SOURCE_DIR
set -euo pipefail
nvcc=$1 src=$2
table=$(bash "$src/scripts/kernel-resources.sh" "$nvcc" "$src" host/cuda/leaky_step.cu host/cuda/update.cu host/cuda/persistent.cu)
echo "$table"
# Columns: FILE REGISTERS STACK SPILL_STORES SPILL_LOADS BARRIERS KERNEL
bad=$(echo "$table" | awk 'NR > 1 && ($3 != 0 || $4 != 0 || $5 != 0)')
rows=$(echo "$table" | awk 'NR > 1' | wc -l)
[[ $rows -gt 0 ]] || { echo "no kernels reported"; exit 1; }
if [[ -n $bad ]]; then
  echo "local memory in kernels:"; echo "$bad"; exit 1
fi
echo "$rows kernels, no stack frame, no spills"
