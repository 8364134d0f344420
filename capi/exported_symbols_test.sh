#!/bin/bash
# Fails if libdurable.so defines any dynamic symbol not named durable_*.
set -euo pipefail
lib="$1"
defined=$(nm -D --defined-only "$lib" | awk '{print $3}')
count=$(echo "$defined" | grep -c . || true)
foreign=$(echo "$defined" | grep -v '^durable_' || true)
if [[ "$count" -lt 10 ]]; then
  echo "FAIL: only $count defined symbols in $lib; expected the C ABI" >&2
  exit 1
fi
if [[ -n "$foreign" ]]; then
  echo "FAIL: $lib exports symbols outside durable_*:" >&2
  echo "$foreign" >&2
  exit 1
fi
echo "PASS: $lib exports $count symbols, all durable_*"
