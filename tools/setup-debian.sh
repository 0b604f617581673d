#!/usr/bin/env bash
# Installs the Debian 12 packages qnn builds against (and, with --bench, those of the PyTorch
# reference benchmarks in shared/bench/). Installs only what dpkg says is missing. As root it runs
# apt-get; otherwise it prints the one command to run and exits non-zero.
# Usage: bash tools/setup-debian.sh [--bench]
set -euo pipefail

# clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) and libomp-dev (clang's OpenMP):
# the fuzz targets of tests/fuzz, which .ci/run builds and runs.
packages=(build-essential cmake libopenblas-openmp-dev nlohmann-json3-dev doctest-dev libstb-dev libcli11-dev
  libcurl4-openssl-dev libssl-dev libarchive-dev clang-format clang libclang-rt-14-dev libomp-dev)
for arg in "$@"; do
  case "$arg" in
    # libopenblas0: torch reaches BLAS through Debian's libblas.so.3 alternative, which otherwise
    # may be the reference BLAS (~40x slower sgemm; shared/bench/BASELINE.md).
    --bench) packages+=(python3-torch python3-torchvision libopenblas0) ;;
    -h | --help)
      sed -n '2,5p' "$0"
      exit 0
      ;;
    *)
      echo "setup-debian.sh: unknown argument '$arg' (expected --bench or nothing)" >&2
      exit 2
      ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-debian.sh: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  echo "setup-debian.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y "${missing[@]}"
else
  echo "setup-debian.sh: missing ${missing[*]}; run this as root, or:" >&2
  echo "sudo apt-get install -y ${missing[*]}"
  exit 1
fi
