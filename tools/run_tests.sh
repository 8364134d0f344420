#!/bin/bash
# Runs every test: the Bazel test suite, then the external consumer
# workspace. Ends with one summary line, "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Two cores: two test jobs, and leave the machine usable while building.
bazel test --jobs=2 --test_summary=short //... 2>&1 | tee "$log"
bazel_rc=${PIPESTATUS[0]}

passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//\S+\s+.*(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log" || true)
if [[ $bazel_rc -ne 0 && $failed -eq 0 ]]; then
  failed=1  # the build itself failed
fi

if tools/test_bazel_consumer.sh; then
  passed=$((passed + 1))
else
  echo "FAILED: examples/bazel-consumer" >&2
  failed=$((failed + 1))
fi

echo
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
