#!/bin/sh
echo "coverage collection through Bazel is not available in durable's offline build" >&2
exit 1
