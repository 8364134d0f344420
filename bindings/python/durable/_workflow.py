"""Workflow code: the context, futures, and the deterministic loop that runs them.

A workflow is an ``async def`` taking a :class:`WorkflowContext` first:

    @durable.workflow
    async def workflow1(ctx: durable.WorkflowContext, input: str) -> int:
        r1 = await ctx.execute_activity(activity1, 35, 12)
        r2 = await ctx.execute_activity(activity2)
        return r1 + r2

Workflow code is replayed: after a crash, or whenever its run is not cached,
the engine runs it again from the start and feeds it the recorded results, so
it must be deterministic. Everything that could differ between runs comes from
the context: :meth:`WorkflowContext.now` is the workflow task's time, activity
results and timer firings come from history, :meth:`WorkflowContext.random`
is seeded by the engine, and :meth:`WorkflowContext.side_effect` records a
value once.

The loop. Workflows never run on asyncio. For each activation (a batch of
jobs from the core: start, activity resolved, timer fired, signal, cancel) the
binding applies the jobs in order, which resolves futures and queues the tasks
waiting on them, then runs the queued tasks one at a time, in a deterministic
order, until every task is blocked again; the commands they issued (schedule
activity, start/cancel timer, record side effect, signal another workflow,
complete/fail) form the completion. Awaiting anything that is not a durable
operation - ``asyncio.sleep()``, an asyncio future, a bare ``yield`` - raises
:class:`~durable.errors.NonDeterministicAwaitError` at that ``await``.

Concurrency inside one run: ``ctx.start(coro)`` runs a coroutine as a task
(go-workflows' ``workflow.Go``); :func:`gather` awaits several awaitables;
:func:`wait_any` returns the first of several futures or signal channels to
become ready (go-workflows' ``Select``).

Composition and long life: ``ctx.execute_sub_workflow()`` starts a
sub-workflow and returns a :class:`SubWorkflowHandle` (a future of its
result); ``ctx.continue_as_new(*args)`` raises :class:`ContinueAsNewError`,
which ends the run and restarts the instance with an empty history.
Versioning: ``ctx.patched(id)`` / ``ctx.deprecate_patch(id)``.

Cancellation scopes (the C++ facade's ``WithCancel`` and
``NewDisconnectedContext``): every :class:`WorkflowContext` is a scope.
The workflow's own context is canceled with the instance;
``ctx.with_cancel()`` derives a scope canceled with its parent or by the
function it returns; ``ctx.disconnected()`` one that no cancellation reaches.
Canceling a scope cancels its pending timers and sub-workflows and raises
:class:`~durable.errors.CanceledError` into the coroutines waiting on its
operations; a canceled derived scope refuses new operations.

The runtime is split into one module per concept, named after the C++
facade's headers (bindings/cpp/include/durable/) where both have it; this
module only gathers the names the package exports, and WorkflowExecutor,
which the worker drives:

    _options.py            RetryPolicy, durations          (options.h)
    _future.py             Future                          (future.h)
    _task.py               Task, ctx.start()               (task.h)
    _timer.py              Timer                           (workflow_context.h)
    _signal_channel.py     SignalChannel                   (signal_channel.h)
    _select.py             gather(), wait_any()            (select.h)
    _sub_workflow.py       SubWorkflowHandle               (workflow_context.h)
    _continue_as_new.py    ContinueAsNewError              (workflow_context.h)
    _cancellation.py       cancellation scopes             (cancellation.h,
                                                            internal/cancel_state.h)
    _workflow_context.py   WorkflowContext                 (workflow_context.h)
    _loop.py               the current run, asyncio refused
    _workflow_run.py       one run: jobs in, commands out  (internal/workflow_run.h)
    _workflow_executor.py  the cache of runs               (internal/workflow_executor.h)
"""

from durable._continue_as_new import ContinueAsNewError
from durable._future import Future
from durable._options import RetryPolicy
from durable._select import gather, wait_any
from durable._signal_channel import SignalChannel
from durable._sub_workflow import SubWorkflowHandle
from durable._task import Task
from durable._timer import Timer
from durable._workflow_context import WorkflowContext
from durable._workflow_executor import WorkflowExecutor  # noqa: F401 - for the worker

__all__ = [
    "WorkflowContext",
    "Future",
    "Task",
    "Timer",
    "SubWorkflowHandle",
    "SignalChannel",
    "RetryPolicy",
    "ContinueAsNewError",
    "gather",
    "wait_any",
]
