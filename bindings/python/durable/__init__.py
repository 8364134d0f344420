"""durable: durable workflows in Python, on durable's C++ engine.

    import durable

    @durable.activity
    def activity1(a: int, b: int) -> int:
        return a + b

    @durable.workflow
    async def workflow1(ctx: durable.WorkflowContext, input: str) -> int:
        return await ctx.execute_activity(activity1, 35, 12)

    backend = durable.open("sqlite:///tmp/app.db")
    with durable.Worker(backend, workflows=[workflow1], activities=[activity1]):
        client = durable.Client(backend)
        instance = client.create(workflow1, "hello")
        print(client.result(instance, timeout=30))

The package is a thin layer over durable's C ABI (``durable.h``) through the
``_durable_native`` extension: the engine (history, replay, determinism
checks, timers, retries, storage) is the same one C++ programs use, so Python
and C++ workers share one database and call each other's activities by name.
See docs/python.md for the guide.
"""

from durable._native import native as _native
from durable._activity import ActivityContext
from durable.client import (Backend, Client, HistoryEvent, WorkerInfo, WorkflowInstance,
                            WorkflowInstanceState, WorkflowState, open)
from durable.errors import *  # noqa: F401,F403 - the typed exceptions are public API
from durable.errors import __all__ as _errors_all
from durable.registry import ActivityDefinition, WorkflowDefinition, activity, workflow
from durable.worker import Worker
from durable._workflow import (ContinueAsNewError, Future, RetryPolicy, SignalChannel,
                              SubWorkflowHandle, Task, Timer, WorkflowContext, gather, wait_any)

__version__: str = _native.version()

__all__ = [
    "open",
    "Backend",
    "Client",
    "Worker",
    "workflow",
    "activity",
    "WorkflowContext",
    "ActivityContext",
    "Future",
    "Task",
    "Timer",
    "SubWorkflowHandle",
    "ContinueAsNewError",
    "SignalChannel",
    "RetryPolicy",
    "gather",
    "wait_any",
    "WorkflowInstance",
    "WorkflowInstanceState",
    "WorkerInfo",
    "WorkflowState",
    "HistoryEvent",
    "WorkflowDefinition",
    "ActivityDefinition",
] + list(_errors_all)
