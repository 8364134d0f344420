"""Runs pytest on the test files given as arguments (the py_test entry point).

Bazel runs this under the registered py_runtime (Debian's /usr/bin/python3,
with Debian's pytest). The cache provider is off because the runfiles tree is
read-only, and bytecode is not written: the test sources are symlinks into
the source tree, where __pycache__ directories must not appear.
"""

import sys

sys.dont_write_bytecode = True

import pytest  # noqa: E402 - after dont_write_bytecode

if __name__ == "__main__":
    sys.exit(pytest.main(["-p", "no:cacheprovider", "-v", "--tb=short", *sys.argv[1:]]))
