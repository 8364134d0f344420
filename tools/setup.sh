#!/bin/bash
# Installs the Debian packages durable needs. Idempotent, and quick when
# everything is already installed: apt is only called for packages that are
# missing. Run as root on Debian 12.
#
#   tools/setup.sh          what the build and the demo need (`make demo`)
#   tools/setup.sh --test   also the database servers and client libraries the
#                           tests start and talk to (`make test`)
#
# The test servers are kept out of the demo's install because they are large
# (MariaDB and PostgreSQL pull in a few hundred MB) and the demo runs on SQLite.
# Tests never use the services these packages register: each test starts its
# own private server process (testing/servers/).
set -euo pipefail

usage() {
  echo "usage: tools/setup.sh [--test]" >&2
  exit 2
}

with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    *) usage ;;
  esac
done

# The build, the demo and the SQLite tests.
PACKAGES=(
  bazel-bootstrap
  g++ pkg-config binutils python3
  # gcc 12's sanitizer runtimes for make test's --config=asan and tsan runs
  # (g++ already depends on them).
  libasan8 libubsan1 libtsan2
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libsqlite3-dev
  # MariaDB Connector/C: //backends:all_stores links the mysql:// store, so
  # everything built on it (the C ABI, the bindings, durable-bench) needs it.
  libmariadb-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  nlohmann-json3-dev
  python3-dev pybind11-dev python3-protobuf python3-pytest
  # The Redis store's client library: //backends:all_stores, and so
  # libdurable and the Python binding, link it.
  libhiredis-dev
)

# What the tests add: the servers testing/servers/ launches and the client
# library of the PostgreSQL backend (Redis's and MariaDB's are in the build
# set above).
# testing/servers/ names these packages in its error messages; keep them in
# step.
TEST_PACKAGES=(
  redis-server
  mariadb-server
  postgresql-15 libpq-dev
)

wanted=("${PACKAGES[@]}")
if [[ $with_test -eq 1 ]]; then
  wanted+=("${TEST_PACKAGES[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#wanted[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}; run 'sudo tools/setup.sh $*'" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run instead of failing at once (a shared machine
# may be installing something else).
apt_opts=(-o DPkg::Lock::Timeout=600)
apt-get "${apt_opts[@]}" update -qq
apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}"
