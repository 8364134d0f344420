# The two commands of the README, plus the benchmarks. Each installs what it
# needs first, then calls Bazel: `make demo` the build's packages
# (tools/setup.sh), `make test` also the database servers and client libraries
# the tests start and use (tools/setup.sh --test).
.PHONY: setup setup-test demo test bench format

DEMO_DB ?= /tmp/durable-demo/demo.db

setup:
	@bash tools/setup.sh

setup-test:
	@bash tools/setup.sh --test

demo: setup
	@mkdir -p $(dir $(DEMO_DB))
	bazel run --jobs=2 //examples/simple -- sqlite://$(DEMO_DB)

test: setup-test
	bash tools/run_tests.sh

bench: setup
	bazel build -c opt --jobs=2 //benchmarks:all //backends/redis:wake_latency_bench
	bash benchmarks/run_bench.sh bazel-bin/benchmarks bazel-bin/backends/redis

format:
	find core capi bindings backends testing benchmarks examples tools \
	  -name '*.h' -o -name '*.cc' -o -name '*.c' | xargs clang-format -i
