#!/usr/bin/env bash
# The ODR check of the two builds of kernels/cuda (docs/simt.md): lists the external symbols
# defined in both libbt_simt_kernels.a and libbt_cuda_kernels.a and fails on any of the launch
# machinery (simt::, dim3, bt::cuda:: other than inline constants): those differ between the
# nvcc and emulator builds, so sharing a mangled name would let the linker pick either body.
# Shared std:: templates and kernels/cpu header functions are identical source and allowed.
# Usage: odr_check.sh SIMT_LIB CUDA_LIB
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 libbt_simt_kernels.a libbt_cuda_kernels.a" >&2
  exit 2
fi
defined() { nm --defined-only "$1" | awk 'NF == 3 && $2 ~ /^[TWVuBDR]$/ {print $3}' | sort -u; }
shared=$(comm -12 <(defined "$1") <(defined "$2") | c++filt)
# The entity's own name: the demangled text before its first '<' or '(' (so std::forward<T> of
# a bt::cuda type counts as std::).
own_name() { sed -E 's/[<(].*//'; }
bad=$(own_name <<<"$shared" | grep -E 'simt::|dim3|uint3|float[24]|bt::cuda::' | grep -vE 'std::' |
      grep -vE '^bt::cuda::k[A-Z][A-Za-z0-9]*$' || true)
echo "symbols defined in both builds: $(grep -c . <<<"$shared" || true)"
if [[ -n "$bad" ]]; then
  echo "ODR hazard: launch machinery defined in both builds:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "no launch machinery shared between the builds"
