#!/bin/bash
# Builds and runs examples/bazel-consumer, a separate Bazel workspace that
# takes durable as a dependency (local_repository + durable_dependencies()),
# the way a C++ service would. Fails unless the workflow returns 59.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/examples/bazel-consumer" || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! output=$(bazel run --jobs=2 //:consumer 2>"$log"); then
  cat "$log" >&2
  echo "bazel-consumer: FAILED (build or run failed)" >&2
  exit 1
fi
echo "$output"
if ! grep -q "consumer workflow result: 59" <<<"$output"; then
  echo "bazel-consumer: FAILED (expected 'consumer workflow result: 59')" >&2
  exit 1
fi
echo "bazel-consumer: PASSED"
