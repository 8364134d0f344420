#!/bin/bash
# Runs a benchmark binary for a moment and checks that every benchmark
# reported a result (the counter named by $2) and none reported an error.
# Not a timing assertion.
set -euo pipefail
out=$("$1" --benchmark_min_time=0.01 --benchmark_format=console 2>&1)
echo "$out"
if grep -q "ERROR OCCURRED" <<<"$out"; then
  echo "FAIL: a benchmark reported an error" >&2
  exit 1
fi
if ! grep -q "$2" <<<"$out"; then
  echo "FAIL: no benchmark produced results" >&2
  exit 1
fi
