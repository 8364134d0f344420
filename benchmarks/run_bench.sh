#!/bin/bash
# `make bench`: runs every benchmark with -c opt binaries from $1 (default
# bazel-bin/benchmarks) on SQLite (a fresh file, default durability:
# synchronous=FULL), then the end-to-end workloads on a private redis-server
# with appendfsync always (binaries of //backends/redis from $2, default
# bazel-bin/backends/redis), and prints a summary. See docs/benchmarks.md
# and docs/redis.md.
set -euo pipefail
bin="${1:-bazel-bin/benchmarks}"
redis_bin="${2:-bazel-bin/backends/redis}"
dir="$(mktemp -d /tmp/durable-bench.XXXXXX)"
redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
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

section "end-to-end workloads on Redis (private redis-server, appendonly yes, appendfsync always)"
if command -v redis-server >/dev/null; then
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  mkdir -p "$dir/redis"
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes \
      --appendfsync always --dir "$dir/redis" --daemonize no \
      --logfile "$dir/redis/redis.log" &
  redis_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
  done
  redis="redis://127.0.0.1:$port"
  "$bin/durable-bench" --backend="$redis/?prefix=all" --workload=all 2>&1 | tee -a "$log"
  "$bin/durable-bench" --backend="$redis/?prefix=procs" --workload=W1 --processes=2 2>&1 | tee -a "$log"
  "$redis_bin/wake_latency_bench" --uri="$redis/?prefix=wake" 2>&1 | tee -a "$log"
else
  echo "skipped: redis-server is not installed (tools/setup.sh --test)" | tee -a "$log"
fi

echo
echo "=== summary"
grep -E '^(# durable-bench|# wake_latency_bench|W1|W2|W3|wake) ' "$log" || true
grep -E '^BM_' "$log" | sed -E 's/ +/ /g' | awk '{
  name=$1; rate="";
  for (i = 2; i <= NF; ++i) if ($i ~ /^(events_per_second|items_per_second|p50_ms|commits_per_op|fsyncs_per_op)=/) rate = rate " " $i;
  print name rate }'
