#!/bin/bash
# Compiles a user file that includes the facade as C++17: it must fail with
# exactly one error, the one naming -std=c++20. And C++20 passes the check.
set -uo pipefail
include="$(pwd)/bindings/cpp/include"
work="${TEST_TMPDIR:-$(mktemp -d)}"
printf '#include "durable/workflow_context.h"\nint main() {}\n' >"$work/user.cc"
printf '#include "durable/cxx20.h"\nint main() {}\n' >"$work/ok.cc"

if g++ -std=c++17 -fsyntax-only -I"$include" "$work/user.cc" 2>"$work/err"; then
  echo "FAIL: compiling the facade as C++17 succeeded"; exit 1
fi
cat "$work/err"
if ! grep -q "durable's C++ facade needs C++20: compile with -std=c++20" "$work/err"; then
  echo "FAIL: the error does not name the flag"; exit 1
fi
errors=$(grep -c 'error:' "$work/err")
# The #error, then the fatal include that stops the compiler.
if [[ $errors -gt 2 ]]; then
  echo "FAIL: $errors errors, expected the one that names the flag"; exit 1
fi
if ! g++ -std=c++20 -fsyntax-only -I"$include" "$work/ok.cc"; then
  echo "FAIL: the check refuses C++20"; exit 1
fi
echo "PASS: C++17 is refused with one clear error; C++20 is accepted"
