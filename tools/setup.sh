#!/bin/bash
# Installs every Debian package durable's build, tests, demo and benchmarks
# need. Idempotent, and quick when everything is already installed: apt is
# only called for packages that are missing. Run as root on Debian 12.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap
  g++ pkg-config binutils python3
  # gcc 12's sanitizer runtimes for make test's --config=asan and tsan runs
  # (g++ already depends on them).
  libasan8 libubsan1 libtsan2
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libsqlite3-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  nlohmann-json3-dev
  python3-dev pybind11-dev python3-protobuf python3-pytest
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}; run 'sudo tools/setup.sh'" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
