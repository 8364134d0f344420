"""Bad input through the Python binding: poller threads survive anything an
activity raises, answers durable refuses become failures, text arguments are
passed whole."""

from __future__ import annotations

import os
import time

import pytest

import durable
from durable import errors, worker as worker_module
from durable._proto import protocol_pb2


@durable.activity
def open_missing_file() -> str:
    # A file name that is not UTF-8, as os.fsdecode hands it over, in the
    # exception's message: a lone surrogate, which protobuf cannot hold.
    name = os.fsdecode(b"/nonexistent-durable-dir/\xff.txt")
    try:
        with open(name) as f:
            return f.read()
    except OSError:
        raise FileNotFoundError(f"cannot read {name}") from None


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


@durable.activity
def raise_unprintable() -> str:
    raise Unprintable()


@durable.activity
def exit_activity() -> str:
    raise SystemExit(3)


@durable.activity
def fine() -> str:
    return "fine"


@durable.workflow
async def call(ctx: durable.WorkflowContext, name: str) -> list:
    try:
        return ["ok", await ctx.execute_activity(
            name, retry_policy=durable.RetryPolicy(maximum_attempts=1))]
    except durable.ActivityError as e:
        return [e.type, e.message]


@durable.workflow
async def signal_nul_instance(ctx: durable.WorkflowContext) -> str:
    ctx.signal_workflow("a\0b", "hello")
    return "sent"


@pytest.fixture
def env(tmp_path):
    backend = durable.open(f"sqlite://{tmp_path}/bad_input.db")
    # One activity poller: an exception that killed it would stop every
    # later activity.
    worker = durable.Worker(backend, workflows=[call, signal_nul_instance],
                            activities=[open_missing_file, raise_unprintable, exit_activity,
                                        fine],
                            activity_pollers=1, workflow_task_retry_delay=0.05)
    worker.start()
    client = durable.Client(backend)
    yield client
    assert worker.stop(timeout=10)
    client.close()
    backend.close()


def run(client, name):
    return client.result(client.create(call, name), timeout=30)


def test_activity_pollers_survive_whatever_activities_raise(env):
    for _ in range(2):
        kind, message = run(env, "open_missing_file")
        assert (kind, message) == ("FileNotFoundError",
                                   "cannot read /nonexistent-durable-dir/\\xff.txt")
    kind, message = run(env, "raise_unprintable")
    assert (kind, message) == ("Unprintable", "<Unprintable: str() raised RuntimeError>")
    kind, message = run(env, "exit_activity")
    assert kind == "SystemExit"
    # The single poller is still alive.
    assert run(env, "fine") == ["ok", "fine"]


def test_refused_completion_fails_the_workflow_task(env):
    instance = env.create(signal_nul_instance)
    deadline = time.monotonic() + 30
    last = None
    while last is None and time.monotonic() < deadline:
        last = env.state(instance).last_task_failure
        time.sleep(0.02)
    assert last is not None
    code, message = last
    assert "durable refused the workflow's completion: WorkflowActivationCompletion" \
        ".successful.commands[0].signal_external_workflow.instance_id: an instance id " \
        "cannot contain NUL (found at offset 1)" in message


def test_refused_activity_result_becomes_a_non_retryable_failure():
    sent = []

    class RefusingWorker:
        def complete_activity_task(self, data: bytes) -> None:
            sent.append(protocol_pb2.ActivityTaskResult.FromString(data))
            if len(sent) == 1:
                raise errors.error_for_status(3, "ActivityTaskResult.failed.message: bad")

    task = protocol_pb2.ActivityTask(task_token=b"t", activity_name="A", instance_id="i")
    result = protocol_pb2.ActivityTaskResult(task_token=b"t")
    result.failed.message = "original"
    worker_module._complete_activity(RefusingWorker(), task, result)
    assert len(sent) == 2
    replacement = sent[1]
    assert replacement.task_token == b"t"
    assert replacement.failed.type == errors.INVALID_ARGUMENT_FAILURE
    assert replacement.failed.non_retryable
    assert replacement.failed.message == (
        'durable refused the result of activity "A": ActivityTaskResult.failed.message: bad')


def test_text_arguments_are_passed_whole(env):
    env.create(call, "fine", instance_id="a")
    with pytest.raises(durable.InvalidArgumentError) as nul:
        env.state("a\0b")
    assert nul.value.message == "instance_id: an instance id cannot contain NUL (found at offset 1)"
    with pytest.raises(durable.InvalidArgumentError) as bad_reason:
        env.cancel("a", "\udcff")
    assert bad_reason.value.message == "reason: not valid UTF-8 (byte 0xff at offset 0)"
    with pytest.raises(durable.InvalidArgumentError) as bad_id:
        env.result("\udcff", timeout=1)
    assert bad_id.value.message == "instance_id: not valid UTF-8 (byte 0xff at offset 0)"


def test_failure_from_exception_never_raises():
    failure = errors.failure_from_exception(ValueError("bad /tmp/\udcff and \ud800"))
    assert failure.message == "bad /tmp/\\xff and \\ud800"
    a, b = ValueError("a"), ValueError("b")
    a.__cause__, b.__cause__ = b, a  # a cycle of causes
    failure = errors.failure_from_exception(a)
    assert (failure.message, failure.cause.message) == ("a", "b")
    assert not failure.cause.HasField("cause")
