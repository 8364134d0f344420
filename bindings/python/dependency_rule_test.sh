#!/bin/bash
# DESIGN.md's dependency rule for the Python binding, checked on the sources
# and on the built extension (like bindings/cpp/dependency_rule_test.sh):
#
#  1. The native extension includes, from durable, only the C ABI
#     (durable/durable.h) and the generated protocol messages
#     (core/proto/*.pb.h); besides those, only pybind11, Python and standard
#     headers. No core, backend, capi-internal or C++-facade header, and no
#     Abseil (the C ABI is the whole interface).
#  2. The extension exports nothing but its module init function, so the
#     engine linked into it cannot clash with another extension.
#
# Usage: dependency_rule_test.sh <extension.so> <native sources>...
set -euo pipefail
so="$1"
shift
fail=0

includes=$(grep -nE '^\s*#\s*include\s*[<"]' "$@" || true)
violations=$({
  echo "$includes" | grep -vE \
    -e '#\s*include\s*"durable/durable\.h"' \
    -e '#\s*include\s*"core/proto/[a-z_]+\.pb\.h"' \
    -e '#\s*include\s*<pybind11/[a-z0-9_/]+\.h>' \
    -e '#\s*include\s*<Python\.h>' \
    -e '#\s*include\s*<[a-z_]+(\.h)?>' || true
  # Standard-looking names that are durable's or Abseil's are violations too.
  echo "$includes" | grep -E '#\s*include\s*<(durable|core|backends|capi|absl)/' || true
} | sed '/^$/d' | sort -u)
if [[ -n "$violations" ]]; then
  echo "FAIL: the Python extension includes more than durable.h and core/proto messages:" >&2
  echo "$violations" >&2
  fail=1
fi
if ! echo "$includes" | grep -qE '#\s*include\s*"durable/durable\.h"'; then
  echo "FAIL: the Python extension does not include durable/durable.h" >&2
  fail=1
fi

exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
if [[ "$exported" != "PyInit__durable_native" ]]; then
  echo "FAIL: $so exports more than PyInit__durable_native:" >&2
  echo "$exported" | head -20 >&2
  fail=1
fi

[[ $fail -eq 0 ]] || exit 1
echo "PASS: $# extension sources include only durable.h, core/proto messages," \
  "pybind11 and standard headers; the extension exports only its init function"
