"""The classic durable example in Python: a workflow that calls two activities
and returns the sum of their results.

    bazel run //examples/python:simple -- sqlite:///tmp/simple.db
    bazel run //examples/python:simple -- --serve sqlite:///tmp/simple.db

The worker and the client share one backend (in-memory SQLite unless a URI is
given); in production they are usually separate processes. With --serve the
program only runs the worker, until Ctrl-C (or SIGTERM) stops it gracefully.
"""

import argparse
import logging
import sys

import durable


@durable.activity
def activity1(a: int, b: int) -> int:
    return a + b


@durable.activity
def activity2(ctx: durable.ActivityContext) -> int:
    ctx.logger.info("activity2, attempt %d", ctx.attempt)
    return 12


@durable.workflow
async def workflow1(ctx: durable.WorkflowContext, input: str) -> int:
    r1 = await ctx.execute_activity(activity1, 35, 12)
    ctx.logger.info("activity1 returned %d", r1)

    r2 = await ctx.execute_activity(activity2)
    ctx.logger.info("activity2 returned %d", r2)

    return r1 + r2


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uri", nargs="?", default="sqlite::memory:")
    parser.add_argument("--serve", action="store_true", help="only run the worker")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    backend = durable.open(args.uri)
    worker = durable.Worker(backend, workflows=[workflow1], activities=[activity1, activity2])
    if args.serve:
        print("worker running; Ctrl-C stops it", flush=True)
        worker.run()  # blocks until Ctrl-C or SIGTERM, then shuts down gracefully
        print("worker stopped", flush=True)
        return 0

    with worker:
        client = durable.Client(backend)
        instance = client.create(workflow1, "hello world")
        result = client.result(instance, timeout=30)
        print(f"workflow {instance.instance_id} finished: result={result}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
