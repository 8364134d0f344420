#!/bin/bash
# DESIGN.md's dependency rule, checked on the sources: the C++ facade may
# include durable's C ABI (durable/durable.h) and the generated protocol
# messages (core/proto/*.pb.h), never core or backend internals. Bazel
# visibility already keeps it from depending on those targets; this catches
# an #include that would reach them through a transitive header path.
set -euo pipefail
violations=$(grep -nE '^\s*#\s*include\s+"(core|backends|capi)/' "$@" \
  | grep -vE '"core/proto/[a-z_]+\.pb\.h"' || true)
if [[ -n "$violations" ]]; then
  echo "FAIL: the facade includes engine internals:" >&2
  echo "$violations" >&2
  exit 1
fi
echo "PASS: $# facade sources include only durable.h and core/proto messages"
