#!/usr/bin/env bash
# Installs the Debian 12 packages bt's build needs, and only those; does nothing when they are
# all present (idempotent). Runs as root, or through sudo. `./setup.sh --list` prints the list.
#
# The list is complete for a bare Debian 12 (checked in a debootstrap --variant=minbase root):
# the CMake configs it pulls in need nothing more, because CMakeLists.txt finds oneDNN's header
# and library directly (Debian's dnnl-config.cmake would require OpenCL, ocl-icd-opencl-dev).
# The CUDA backend additionally needs the CUDA 13 toolkit with cuDNN 9 and NCCL in
# /usr/local/cuda (NVIDIA's installer, not a Debian package); without nvcc it is skipped.
set -euo pipefail

packages=(
  cmake ninja-build g++    # the build (OpenMP comes with g++: libgomp)
  catch2                   # tests (Catch2 v2)
  libopenblas-openmp-dev   # GEMM + LAPACK, OpenMP flavour (one thread pool with our loops)
  libdnnl-dev              # oneDNN: CPU convolutions
  libboost-context-dev     # fibers of the SIMT emulator
  libcli11-dev             # command-line parsing
  nlohmann-json3-dev       # JSON: logs, configs, safetensors headers
  libstb-dev               # image decoding and PNG plots
  libopenmpi-dev openmpi-bin  # data parallelism over CPU ranks (engine/dist): MPI library and mpirun
  clang libclang-rt-14-dev # the libFuzzer harnesses of fuzz/ (libFuzzer, ASan, UBSan runtimes), run by .ci/sanitize
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
