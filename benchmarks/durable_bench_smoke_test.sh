#!/bin/bash
# Runs durable-bench briefly on every backend flavour and checks that each
# workload printed its result line (the tool itself exits non-zero on a wrong
# result). Not a timing assertion.
set -euo pipefail
bench="$1"
dir="${TEST_TMPDIR:-/tmp}/durable-bench-smoke-$$"
mkdir -p "$dir"
run() {
  echo "+ durable-bench $*"
  out=$("$bench" "$@" 2>&1) || { echo "$out"; echo "FAIL: durable-bench $*" >&2; exit 1; }
  echo "$out"
  for w in W1 W2 W3; do
    grep -q "^$w " <<<"$out" || { echo "FAIL: no $w result" >&2; exit 1; }
  done
  grep -q "durability=" <<<"$out" || { echo "FAIL: no durability line" >&2; exit 1; }
}
small=(--workload=all --n=30 --runs=5 --steps=30 --timeout_s=60)
run --backend=sqlite::memory: "${small[@]}"
run --backend="sqlite://$dir/file.db" "${small[@]}" --payload_bytes=100 --cache=0
run --backend="sqlite://$dir/procs.db" "${small[@]}" --processes=2
