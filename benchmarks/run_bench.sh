#!/bin/bash
# `make bench`: runs every benchmark with -c opt binaries from $1 (default
# bazel-bin/benchmarks) on SQLite (a fresh file, default durability:
# synchronous=FULL) and prints a summary. See docs/benchmarks.md.
set -euo pipefail
bin="${1:-bazel-bin/benchmarks}"
dir="$(mktemp -d /tmp/durable-bench.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
log="$dir/bench.log"

section() { echo; echo "=== $*" | tee -a "$log"; }

echo "durable benchmarks: $(uname -n), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)," \
     "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)" | tee "$log"

section "replay through the core state machine"
"$bin/replay_benchmark" --benchmark_min_time=0.5 2>&1 | tee -a "$log"
section "replay through the full language path (C ABI + facade, cache off)"
"$bin/replay_language_benchmark" --benchmark_min_time=1 2>&1 | tee -a "$log"
section "backend primitives"
TEST_TMPDIR="$dir" "$bin/backend_benchmark" --benchmark_min_time=2 2>&1 | tee -a "$log"
section "start -> result latency"
TEST_TMPDIR="$dir" "$bin/latency_benchmark" --benchmark_min_time=2 2>&1 | tee -a "$log"
section "end-to-end workloads (durable-bench)"
"$bin/durable-bench" --backend="sqlite://$dir/bench.db" --workload=all 2>&1 | tee -a "$log"
"$bin/durable-bench" --backend="sqlite://$dir/steps100.db" --workload=W3 --steps=100 2>&1 | grep '^W3' | tee -a "$log"
"$bin/durable-bench" --backend="sqlite://$dir/steps10k.db" --workload=W3 --steps=10000 2>&1 | grep '^W3' | tee -a "$log"
"$bin/durable-bench" --backend="sqlite://$dir/procs.db" --workload=W1 --processes=2 2>&1 | tee -a "$log"

echo
echo "=== summary"
grep -E '^(# durable-bench|W1|W2|W3) ' "$log" || true
grep -E '^BM_' "$log" | sed -E 's/ +/ /g' | awk '{
  name=$1; rate="";
  for (i = 2; i <= NF; ++i) if ($i ~ /^(events_per_second|items_per_second|p50_ms|commits_per_op|fsyncs_per_op)=/) rate = rate " " $i;
  print name rate }'
