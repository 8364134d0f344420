"""Acceptance 2: Python and C++ workers interoperate on one SQLite file.

A C++ peer process (testing/cpp_peer.cc, on the C++ facade) serves queue
"cpp" (the classic C++ Workflow1 and the activities CppAdd/CppFail), the
workflow tasks of queue "mixed" (CppCallsPython, which calls the Python
activity py_multiply), and on queue "shared" the workflow CppShared and the
activity CppSharedActivity. This process runs a Python worker for Python
workflows on "default", an activity-only Python worker on "mixed", and a
Python worker with other names on "shared".
"""

from __future__ import annotations

import subprocess
from typing import Iterator, Optional

import pytest

import durable
import scenarios
from conftest import runfile


@durable.activity
def py_multiply(a: int, b: int) -> int:
    return a * b


@durable.workflow
async def python_calls_cpp(ctx: durable.WorkflowContext, a: int, b: int) -> int:
    total = await ctx.execute_activity("CppAdd", a, b, queue="cpp", result_type=int)
    try:
        await ctx.execute_activity("CppFail", "no reason", queue="cpp")
    except durable.ActivityError as e:
        assert e.type == "INVALID_ARGUMENT", e.type
        assert e.message == "CppFail: no reason", e.message
    return total * 10


@durable.activity
def py_shared_activity() -> str:
    return "py"


@durable.workflow
async def py_shared(ctx: durable.WorkflowContext) -> str:
    cpp = await ctx.execute_activity("CppSharedActivity", result_type=str)
    return "py+" + cpp


@pytest.fixture
def shared_db(tmp_path) -> Iterator[str]:
    uri = f"sqlite://{tmp_path}/shared.db"
    # Create the schema from this process first so both sides open a ready file.
    durable.open(uri).close()
    peer = subprocess.Popen([runfile("bindings/python/testing/cpp_peer"), uri],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "ready"
        yield uri
    finally:
        assert peer.stdin is not None
        peer.stdin.close()  # the peer stops its workers and exits
        assert peer.wait(timeout=30) == 0


@pytest.mark.parametrize("cache_size", [None, 0], ids=["cache_default", "cache_0"])
def test_python_workflow_calls_cpp_activity(shared_db: str, cache_size: Optional[int]):
    backend = durable.open(shared_db)
    with durable.Worker(backend, workflows=[python_calls_cpp], max_cached_workflows=cache_size):
        client = durable.Client(backend)
        instance = client.create(python_calls_cpp, 35, 12)
        assert client.result(instance, timeout=60) == 470


def test_cpp_workflow_calls_python_activity(shared_db: str):
    backend = durable.open(shared_db)
    with durable.Worker(backend, activities=[py_multiply], queues=["mixed"]) as worker:
        assert worker.workflow_names == []  # only activity pollers on "mixed"
        client = durable.Client(backend)
        instance = client.create("CppCallsPython", 6, 7, queue="mixed")
        assert client.result(instance, timeout=60) == 43


def test_python_and_cpp_classic_histories_match(shared_db: str):
    backend = durable.open(shared_db)
    with durable.Worker(backend, workflows=[scenarios.workflow1],
                        activities=[scenarios.activity1, scenarios.activity2]):
        client = durable.Client(backend)
        cpp = client.create("Workflow1", "input", queue="cpp")
        python = client.create(scenarios.workflow1, "input")
        assert client.result(cpp, timeout=60) == 59
        assert client.result(python, timeout=60) == 59
        cpp_kinds = [e.kind for e in client.history(cpp)]
        python_kinds = [e.kind for e in client.history(python)]
        assert python_kinds == cpp_kinds == scenarios.CLASSIC_HISTORY


def test_cpp_and_python_workers_share_a_queue(shared_db: str):
    """Each worker of a mixed deployment gets only what it runs.

    The C++ peer and this Python worker poll "shared" with different
    registrations; every task must reach the worker that runs it (40
    instances: one misrouted task used to fail its workflow for good, about
    one run in ten), and a name neither runs fails at once.
    """
    backend = durable.open(shared_db)
    with durable.Worker(backend, workflows=[py_shared], activities=[py_shared_activity],
                        queues=["shared"]) as worker:
        client = durable.Client(backend)
        instances = [client.create("CppShared" if i % 2 else py_shared, queue="shared")
                     for i in range(40)]
        for i, instance in enumerate(instances):
            assert client.result(instance, timeout=60) == ("cpp+py" if i % 2 else "py+cpp")
        # Operators see both workers, with what each runs.
        shared = sorted((w.workflow_names, w.activity_names) for w in client.workers()
                        if w.queues == ["shared"])
        assert shared == [(["CppShared"], ["CppSharedActivity"]),
                          (["py_shared"], ["py_shared_activity"])]
        assert worker.workflow_names == ["py_shared"]
        nobody = client.create("NobodysWorkflow", queue="shared")
        with pytest.raises(durable.WorkflowNotRegisteredError) as caught:
            client.result(nobody, timeout=60)
        assert 'is not registered with any live worker polling queue "shared"' in \
            caught.value.message
