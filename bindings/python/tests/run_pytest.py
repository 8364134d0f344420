"""Runs pytest on the test files given as arguments (the py_test entry point).

Bazel runs this under the registered py_runtime (Debian's /usr/bin/python3,
with Debian's pytest). The cache provider is off because the runfiles tree is
read-only.
"""

import sys

import pytest

if __name__ == "__main__":
    sys.exit(pytest.main(["-p", "no:cacheprovider", "-v", "--tb=short", *sys.argv[1:]]))
