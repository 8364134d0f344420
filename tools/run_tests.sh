#!/bin/bash
# Runs every test: the Bazel test suite, the external consumer workspace,
# then the C++ tests again under sanitizers (see .bazelrc):
#   --config=asan  AddressSanitizer + UndefinedBehaviorSanitizer over every
#                  cc_test;
#   --config=tsan  ThreadSanitizer over //tools:tsan_tests (the worker and C++
#                  facade tests, and the check that TSan sees abseil).
# Python and shell tests run only in the default suite: their interpreters
# are not instrumented. Ends with one summary line, "N passed, N failed",
# counting the tests of all three runs.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0
failed=0

# bazel_tests NAME ARGS...: runs `bazel test ARGS...` and adds its tests to
# the counts.
bazel_tests() {
  local name=$1
  shift
  local start=$SECONDS
  # Two cores: two jobs, and leave the machine usable while building.
  bazel test --jobs=2 --test_summary=short "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log" || true)
  f=$(grep -cE '^//\S+\s+.*(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log" || true)
  if [[ $rc -ne 0 && $f -eq 0 ]]; then
    f=1  # the build itself failed
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "== ${name}: ${p} tests passed and ${f} failed, $((SECONDS - start)) s"
}

bazel_tests "default suite" //...

if tools/test_bazel_consumer.sh; then
  passed=$((passed + 1))
else
  echo "FAILED: examples/bazel-consumer" >&2
  failed=$((failed + 1))
fi

# Every cc_test but manual ones (those are built only for a sanitizer, like
# //third_party/tsan_absl:tsan_absl_test).
if cc_tests=$(bazel query --noshow_progress \
    'kind(cc_test, //...) except attr(tags, manual, //...)'); then
  # shellcheck disable=SC2086  # one label per word
  bazel_tests "asan" --config=asan $cc_tests
else
  echo "FAILED: bazel query for the C++ tests" >&2
  failed=$((failed + 1))
fi

bazel_tests "tsan" --config=tsan //tools:tsan_tests

echo
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
