#!/bin/bash
# Builds and runs examples/bazel-consumer, a separate Bazel workspace that
# takes durable as a dependency (local_repository + durable_dependencies()),
# the way a C++ service would. Prints the program's output; fails if the
# workflow does not return the expected result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/examples/bazel-consumer"
output=$(bazel run --jobs=2 //:consumer 2>/dev/null)
echo "$output"
if ! grep -q "consumer workflow result: 59" <<<"$output"; then
  echo "bazel-consumer: expected 'consumer workflow result: 59'" >&2
  exit 1
fi
echo "bazel-consumer: PASSED"
