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

Composition and long life: ``ctx.execute_child_workflow()`` starts a
sub-workflow and returns a :class:`ChildWorkflowHandle` (a future of its
result); ``ctx.continue_as_new(*args)`` raises :class:`ContinueAsNewError`,
which ends the run and restarts the instance with an empty history.
Versioning: ``ctx.patched(id)`` / ``ctx.deprecate_patch(id)``.

Cancellation scopes (the C++ facade's ``WithCancel`` and
``NewDisconnectedContext``): every :class:`WorkflowContext` is a scope.
The workflow's own context is canceled with the instance;
``ctx.with_cancel()`` derives a scope canceled with its parent or by the
function it returns; ``ctx.disconnected()`` one that no cancellation reaches.
Canceling a scope cancels its pending timers and child workflows and raises
:class:`~durable.errors.CanceledError` into the coroutines waiting on its
operations; a canceled derived scope refuses new operations.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import logging
import random as _random
import threading
import uuid
from typing import (Any, Awaitable, Callable, Deque, Dict, Generator, Generic, List, Mapping,
                    NoReturn, Optional, Sequence, Set, Tuple, TypeVar, Union)

from durable import converter
from durable._proto import common_pb2, protocol_pb2
from durable.errors import (CANCELED_FAILURE_TYPE, INVALID_ARGUMENT_FAILURE,
                            WORKFLOW_NOT_REGISTERED, ActivityError, CanceledError,
                            ChildWorkflowCanceledError, ChildWorkflowError,
                            NonDeterministicAwaitError, PayloadError, error_from_failure,
                            failure_from_exception)
from durable.registry import ActivityDefinition, WorkflowDefinition, workflow_name

__all__ = [
    "WorkflowContext",
    "Future",
    "Task",
    "Timer",
    "ChildWorkflowHandle",
    "SignalChannel",
    "RetryPolicy",
    "ContinueAsNewError",
    "gather",
    "wait_any",
]

T = TypeVar("T")

Duration = Union[datetime.timedelta, float, int]

_log = logging.getLogger("durable.workflow")


def _to_us(duration: Optional[Duration], what: str) -> int:
    if duration is None:
        return 0
    if isinstance(duration, datetime.timedelta):
        us = duration // datetime.timedelta(microseconds=1)
    elif isinstance(duration, (int, float)):
        us = int(round(duration * 1_000_000))
    else:
        raise TypeError(f"{what} must be a datetime.timedelta or seconds, not "
                        f"{type(duration).__name__}")
    if us < 0:
        raise ValueError(f"{what} must not be negative, got {duration!r}")
    return us


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How failed activity attempts are retried (``durable.v1.RetryPolicy``).

    Attributes:
        maximum_attempts: total attempts including the first (0: the engine's
            default, 1: no retry).
        initial_interval: delay before the first retry.
        backoff_coefficient: multiplier applied to the delay after each retry.
        maximum_interval: upper bound for the delay (None: 100 initial
            intervals). A NaN or infinite coefficient or a negative value
            fails the activity at once with an ``InvalidArgument`` failure.
        timeout: give up this long after the first attempt was scheduled.
        non_retryable_error_types: failure types that are never retried.
    """

    maximum_attempts: int = 0
    initial_interval: Optional[Duration] = None
    backoff_coefficient: float = 0.0
    maximum_interval: Optional[Duration] = None
    timeout: Optional[Duration] = None
    non_retryable_error_types: Sequence[str] = ()

    def to_proto(self) -> common_pb2.RetryPolicy:
        return common_pb2.RetryPolicy(
            maximum_attempts=self.maximum_attempts,
            initial_interval_us=_to_us(self.initial_interval, "initial_interval"),
            backoff_coefficient=self.backoff_coefficient,
            maximum_interval_us=_to_us(self.maximum_interval, "maximum_interval"),
            timeout_us=_to_us(self.timeout, "timeout"),
            non_retryable_error_types=list(self.non_retryable_error_types),
        )


# --- futures and tasks ------------------------------------------------------------


class Future(Generic[T]):
    """The eventual outcome of a durable operation inside one workflow run.

    Await it for the value (or the exception). Futures are resolved by the
    engine between runs of workflow code (or by the binding itself, e.g. a
    canceled timer) and may only be awaited by code of the run that made them.
    """

    def __init__(self, run: "_Run") -> None:
        self._run = run
        # The cancellation scope of the operation behind the future (None for
        # futures of no operation: tasks, gather, wait_any, signals).
        self._scope: Optional[_Scope] = None
        self._done = False
        self._value: Any = None
        self._exception: Optional[BaseException] = None
        self._callbacks: List[Callable[["Future[Any]"], None]] = []

    def done(self) -> bool:
        """True once the future has a value or an exception."""
        return self._done

    def result(self) -> T:
        """The value; raises the exception, or RuntimeError while pending."""
        if not self._done:
            raise RuntimeError("the future is not resolved yet; await it")
        if self._exception is not None:
            raise self._exception
        return self._value

    def exception(self) -> Optional[BaseException]:
        """The exception, None if it succeeded; RuntimeError while pending."""
        if not self._done:
            raise RuntimeError("the future is not resolved yet; await it")
        return self._exception

    def _set_result(self, value: Any) -> None:
        if self._done:
            return
        self._done, self._value = True, value
        self._fire()

    def _set_exception(self, exception: BaseException) -> None:
        if self._done:
            return
        self._done, self._exception = True, exception
        self._fire()

    def _fire(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def _add_callback(self, callback: Callable[["Future[Any]"], None]) -> None:
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _remove_callback(self, callback: Callable[["Future[Any]"], None]) -> None:
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def __await__(self) -> Generator[Any, None, T]:
        if not self._done:
            yield self
        return self.result()


class Task(Future[T]):
    """A coroutine running on the run's deterministic loop (``ctx.start``)."""

    def __init__(self, run: "_Run", coro: Awaitable[T], name: str) -> None:
        super().__init__(run)
        if not asyncio.iscoroutine(coro):
            raise TypeError(f"ctx.start() needs a coroutine, got {type(coro).__name__}")
        self.name = name
        self._coro = coro
        self._waiting_on: Optional[Future[Any]] = None
        self._started = False
        # The future whose resolution made the task runnable.
        self._resumed_from: Optional[Future[Any]] = None
        # Cancellation that reached the task while it was not waiting: raised
        # where it resumes (it had started) or at its first blocking await
        # (it had not), like asyncio's Task.cancel().
        self._cancel_on_resume: Optional[str] = None
        self._cancel_on_wait: Optional[str] = None
        # Timers and children the task started on canceled scopes before it
        # saw the cancellation: canceled when it does.
        self._ops_before_cancel: List[Any] = []
        run._tasks.append(self)
        run._schedule(self, None)

    def _wakeup(self, future: Future[Any]) -> None:
        if self._waiting_on is future:
            self._waiting_on = None
            self._resumed_from = future
            self._run._schedule(self, None)

    def _cancel_wait(self, error: BaseException) -> bool:
        """Throws ``error`` into the task if it is blocked. True if it was."""
        if self._done or self._waiting_on is None:
            return False
        self._waiting_on._remove_callback(self._wakeup)
        self._waiting_on = None
        self._run._schedule(self, error)
        return True

    def _step(self, error: Optional[BaseException]) -> None:
        run = self._run
        if error is None and self._cancel_on_resume is not None:
            error = CanceledError(self._cancel_on_resume)
        self._cancel_on_resume = None
        self._started = True
        self._resumed_from = None
        try:
            if error is not None:
                yielded = self._coro.throw(error)
            else:
                yielded = self._coro.send(None)
        except StopIteration as stop:
            self._set_result(stop.value)
            return
        except (Exception, ContinueAsNewError) as e:  # noqa: BLE001 - user code raises anything
            self._set_exception(e)
            return
        if isinstance(yielded, Future) and yielded._run is run:
            if (self._cancel_on_wait is not None and not yielded._done
                    and _reached_by_cancellation(yielded)):
                message, self._cancel_on_wait = self._cancel_on_wait, None
                ops, self._ops_before_cancel = self._ops_before_cancel, []
                for op in ops:
                    if isinstance(op, Timer):
                        op.cancel(CanceledError(message))
                    else:
                        op.cancel()
                run._schedule(self, CanceledError(message))
                return
            self._waiting_on = yielded
            yielded._add_callback(self._wakeup)
            return
        if isinstance(yielded, Future):
            problem = "a future of another workflow run"
        elif yielded is None:
            problem = ("a bare yield (asyncio.sleep(0) or another asyncio primitive)")
        else:
            problem = f"{type(yielded).__module__}.{type(yielded).__qualname__}"
        run._schedule(self, NonDeterministicAwaitError(
            f"workflow {run.workflow_name!r} awaited {problem}, which is not a durable "
            "operation. Workflow code runs on durable's deterministic loop, not asyncio: "
            "use ctx.sleep() / ctx.timer() instead of asyncio.sleep(), and run I/O in "
            "activities (ctx.execute_activity)."))

    def _close(self) -> None:
        try:
            self._coro.close()
        except BaseException:  # noqa: BLE001 - dropping an evicted run
            pass


def _reached_by_cancellation(future: Future[Any]) -> bool:
    """Whether the instance's cancellation interrupts a wait on ``future``:
    not when it belongs to a scope no cancellation reached (disconnected)."""
    return future._scope is None or future._scope.canceled


class Timer(Future[None]):
    """A durable timer started with :meth:`WorkflowContext.timer`.

    Resolves with None when it fires; :meth:`cancel` resolves it with
    :class:`~durable.errors.CanceledError` and tells the core to drop it.
    """

    def __init__(self, run: "_Run", seq: int) -> None:
        super().__init__(run)
        self.seq = seq

    def cancel(self, error: Optional[CanceledError] = None) -> bool:
        """Cancels a pending timer; returns False if it already fired or was canceled.

        Awaiting a canceled timer raises :class:`~durable.errors.CanceledError`.
        """
        if self._done:
            return False
        self._run._add_command(cancel_timer=protocol_pb2.CancelTimer(seq=self.seq))
        self._forget()
        self._set_exception(error or CanceledError("timer canceled"))
        return True

    def _forget(self) -> None:
        self._run._pending_timers.pop(self.seq, None)
        if self._scope is not None:
            self._scope.timers.pop(self.seq, None)


class ChildWorkflowHandle(Future[T]):
    """A child workflow started with :meth:`WorkflowContext.execute_child_workflow`.

    Await it for the child's result; a failed child raises
    :class:`~durable.errors.ChildWorkflowError` with the child's failure type
    and message (:class:`~durable.errors.ChildWorkflowCanceledError` when it
    was canceled, :class:`~durable.errors.ChildWorkflowAlreadyExistsError`
    when an active instance has its id). A child that continues as new
    resolves with the final execution's result.

    Attributes:
        instance_id: the child's instance id (the one given, or the engine's
            deterministic ``"<parent run id>/child-<seq>"``).
        workflow_name: the child's registered workflow name.
        seq: the command sequence number (diagnostics).
    """

    def __init__(self, run: "_Run", seq: int, instance_id: str, name: str,
                 result_hint: Any) -> None:
        super().__init__(run)
        self.seq = seq
        self.instance_id = instance_id
        self.workflow_name = name
        self._hint = result_hint
        self._started_in = run._activation_count
        self._cancel_requested = False

    def cancel(self) -> bool:
        """Asks the child to cancel; False if it already finished or was asked before.

        The child's context is canceled and the handle resolves with whatever
        the child then does (a value, or ChildWorkflowCanceledError if it
        re-raises the cancellation). A child canceled in the same activation
        that started it never runs: the handle fails at once with
        ChildWorkflowCanceledError.
        """
        run = self._run
        if self._done or self._cancel_requested:
            return False
        self._cancel_requested = True
        run._add_command(cancel_child_workflow=protocol_pb2.CancelChildWorkflow(seq=self.seq))
        if run._activation_count == self._started_in:
            # Its StartChildWorkflow is in this very completion: the engine
            # drops both commands, so nothing will ever resolve it.
            self._forget()
            error = ChildWorkflowCanceledError(
                f'child workflow "{self.workflow_name}" ({self.instance_id}) was canceled '
                "before it started; it never ran", type=CANCELED_FAILURE_TYPE)
            error.instance_id = self.instance_id
            self._set_exception(error)
        return True

    def _forget(self) -> None:
        self._run._pending_children.pop(self.seq, None)
        if self._scope is not None:
            self._scope.child_workflows.pop(self.seq, None)

    def _resolve(self, resolve: protocol_pb2.ResolveChildWorkflow) -> None:
        self._forget()
        if resolve.HasField("failed"):
            error = error_from_failure(resolve.failed, ChildWorkflowError)
            error.instance_id = self.instance_id  # type: ignore[attr-defined]
            self._set_exception(error)
            return
        try:
            value = converter.decode(resolve.completed, self._hint)
        except PayloadError as e:
            self._set_exception(e)
            return
        self._set_result(value)


class ContinueAsNewError(BaseException):
    """Raised to end the run and continue the instance as a new execution.

    :meth:`WorkflowContext.continue_as_new` raises it; ``raise
    durable.ContinueAsNewError(*args)`` is the same. When it escapes the
    workflow function, the run ends in state ``CONTINUED_AS_NEW`` and the
    instance starts over (same instance id, new execution id, empty history)
    with ``args``. It derives from BaseException so that ``except
    Exception`` in workflow code does not swallow it.

    Args:
        *args: the next execution's arguments (JSON-encoded when raised).
        workflow: the next execution's workflow (function or name); None:
            the same workflow.
        remove_previous_executions: delete the instance's earlier (ended)
            executions when the next one starts.
    """

    def __init__(self, *args: Any, workflow: Union[str, Callable[..., Any], None] = None,
                 remove_previous_executions: bool = False) -> None:
        super().__init__(*args)
        self.arguments = [converter.encode(a) for a in args]
        self.workflow_name = workflow_name(workflow) if workflow is not None else ""
        self.remove_previous_executions = remove_previous_executions


class _Scope:
    """A cancellation scope: what canceling a WorkflowContext reaches."""

    def __init__(self, run: "_Run", parent: Optional["_Scope"], root: bool = False) -> None:
        self.run = run
        self.root = root
        self.canceled = False
        self.message = ""
        self.children: List[_Scope] = []
        self.timers: Dict[int, Timer] = {}
        self.child_workflows: Dict[int, ChildWorkflowHandle[Any]] = {}
        if parent is not None:
            parent.children.append(self)
            if parent.canceled:
                self.canceled, self.message = True, parent.message

    def refuses(self) -> Optional[CanceledError]:
        """The error new operations fail with: derived scopes refuse once canceled.

        The workflow's own context never refuses: after the instance was
        canceled, cleanup code keeps using it.
        """
        if self.canceled and not self.root:
            return CanceledError(self.message)
        return None

    def cancel(self, message: str) -> None:
        """Cancels the scope and its descendants, in a deterministic order:
        its timers and children in start order, the waiters on its
        operations in task order, then derived scopes in creation order."""
        if self.canceled:
            return
        self.canceled, self.message = True, message
        for timer in list(self.timers.values()):
            timer.cancel(CanceledError(message))
        for child in list(self.child_workflows.values()):
            child.cancel()
        for task in list(self.run._tasks):
            waiting_on = task._waiting_on
            if waiting_on is not None and waiting_on._scope is self:
                task._cancel_wait(CanceledError(message))
        for scope in self.children:
            scope.cancel(message)


class SignalChannel(Generic[T]):
    """Receives the signals sent to this workflow instance under one name.

    Signals are buffered per name in arrival order from the moment they reach
    the run, whether or not a channel was asked for yet; every signal is
    received once. Signals are recorded in history, so replays see them at the
    same points.
    """

    def __init__(self, run: "_Run", name: str, type_hint: Any = None) -> None:
        self._run = run
        self.name = name
        self._type_hint = type_hint

    @property
    def _buffer(self) -> Deque[common_pb2.Payload]:
        return self._run._signals.setdefault(self.name, collections.deque())

    def ready(self) -> bool:
        """True if a signal is buffered (receive_nowait() would succeed)."""
        return bool(self._buffer)

    def receive_nowait(self, default: Any = None) -> Any:
        """The oldest buffered signal, decoded; ``default`` if none is buffered."""
        if not self._buffer:
            return default
        return converter.decode(self._buffer.popleft(), self._type_hint)

    def _ready_future(self) -> Future[None]:
        future: Future[None] = Future(self._run)
        if self._buffer:
            future._set_result(None)
        else:
            self._run._signal_waiters.setdefault(self.name, []).append(future)
        return future

    async def receive(self) -> T:
        """Waits for the next signal of this name and returns it decoded."""
        while not self._buffer:
            await self._ready_future()
        return converter.decode(self._buffer.popleft(), self._type_hint)

    def __aiter__(self) -> "SignalChannel[T]":
        return self

    async def __anext__(self) -> T:
        return await self.receive()


# --- the context --------------------------------------------------------------------


class _ReplayAwareLogger(logging.LoggerAdapter):
    def __init__(self, ctx: "WorkflowContext") -> None:
        super().__init__(_log, {})
        self._ctx = ctx

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging API
        return not self._ctx.is_replaying and super().isEnabledFor(level)

    def process(self, msg: Any, kwargs: Any) -> Any:
        return f"workflow {self._ctx.instance_id}: {msg}", kwargs


class WorkflowContext:
    """The workflow code's only window on the world.

    The workflow function receives the run's context; :meth:`with_cancel` and
    :meth:`disconnected` derive more contexts of the same run, each its own
    cancellation scope. Not thread-safe: a run's code executes on one thread
    at a time.
    """

    def __init__(self, run: "_Run", scope: Optional[_Scope] = None) -> None:
        self._run = run
        self._scope = scope if scope is not None else _Scope(run, None, root=True)
        self.logger: logging.LoggerAdapter = _ReplayAwareLogger(self)
        """Logs through ``logging.getLogger("durable.workflow")``; quiet while replaying."""

    # -- information
    @property
    def instance_id(self) -> str:
        return self._run.instance_id

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def workflow_name(self) -> str:
        return self._run.workflow_name

    @property
    def queue(self) -> str:
        return self._run.queue

    @property
    def metadata(self) -> Mapping[str, str]:
        """Metadata given when the instance was created."""
        return self._run.metadata

    @property
    def is_replaying(self) -> bool:
        """True while the code re-creates steps already in history."""
        return self._run.is_replaying

    @property
    def is_cancel_requested(self) -> bool:
        """True once cancellation of the workflow instance was requested."""
        return self._run.cancel_requested

    @property
    def is_canceled(self) -> bool:
        """True once this context's scope is canceled (with the instance, its
        parent scope or its cancel function)."""
        return self._scope.canceled

    def now(self) -> datetime.datetime:
        """Workflow time (UTC): when the current workflow task started. Never the wall clock."""
        return datetime.datetime.fromtimestamp(self._run.time_us / 1_000_000,
                                               tz=datetime.timezone.utc)

    def random(self) -> _random.Random:
        """A random generator seeded by the engine: the same sequence on every replay."""
        return self._run.random

    def uuid4(self) -> uuid.UUID:
        """A deterministic random UUID (from :meth:`random`)."""
        return uuid.UUID(int=self._run.random.getrandbits(128), version=4)

    # -- activities
    def execute_activity(self, activity: Union[str, Callable[..., Any]], *args: Any,
                         queue: str = "", retry_policy: Optional[RetryPolicy] = None,
                         start_to_close_timeout: Optional[Duration] = None,
                         schedule_to_close_timeout: Optional[Duration] = None,
                         heartbeat_timeout: Optional[Duration] = None,
                         result_type: Any = None) -> Future[Any]:
        """Schedules an activity and returns the future of its result.

        Args:
            activity: an activity function (its registered name and return
                annotation are used) or the name an activity was registered
                under by any worker, in any language.
            *args: arguments, JSON-encoded one payload each.
            queue: queue of the activity task; empty means the workflow's queue.
            retry_policy: how failed attempts are retried.
            start_to_close_timeout, schedule_to_close_timeout, heartbeat_timeout:
                per attempt, over all attempts, and between heartbeats.
            result_type: type to decode the result into (default: the
                function's return annotation, or plain JSON for a name).

        Awaiting the future returns the decoded result or raises
        :class:`~durable.errors.ActivityError` carrying the activity's failure.
        """
        run = self._run
        if isinstance(activity, str):
            name, hint = activity, result_type
        else:
            definition = ActivityDefinition.of(activity)
            name = definition.name
            hint = result_type if result_type is not None else definition.return_hint
        payloads = [converter.encode(a) for a in args]
        future: Future[Any] = Future(run)
        future._scope = self._scope
        refused = self._scope.refuses()
        if refused is not None:
            future._set_exception(refused)
            return future
        seq = run._next_seq("activity")
        command = protocol_pb2.ScheduleActivity(
            seq=seq, activity_name=name, arguments=payloads, queue=queue,
            start_to_close_timeout_us=_to_us(start_to_close_timeout, "start_to_close_timeout"),
            schedule_to_close_timeout_us=_to_us(schedule_to_close_timeout,
                                                "schedule_to_close_timeout"),
            heartbeat_timeout_us=_to_us(heartbeat_timeout, "heartbeat_timeout"))
        if retry_policy is not None:
            command.retry_policy.CopyFrom(retry_policy.to_proto())
        run._add_command(schedule_activity=command)
        run._pending_activities[seq] = (future, hint)
        return future

    # -- timers
    def timer(self, duration: Duration, name: str = "") -> Timer:
        """Starts a durable timer that fires after ``duration`` of workflow time.

        Canceled with this context's scope (see :meth:`with_cancel`).
        """
        run = self._run
        duration_us = _to_us(duration, "duration")
        refused = self._scope.refuses()
        if refused is not None:
            timer = Timer(run, 0)
            timer._set_exception(refused)
            return timer
        seq = run._next_seq("timer")
        run._add_command(start_timer=protocol_pb2.StartTimer(
            seq=seq, duration_us=duration_us, name=name))
        timer = Timer(run, seq)
        timer._scope = self._scope
        run._pending_timers[seq] = timer
        self._scope.timers[seq] = timer
        run._track_op_before_cancel(timer, self._scope)
        return timer

    async def sleep(self, duration: Duration) -> None:
        """Sleeps for ``duration`` (timedelta or seconds) on a durable timer."""
        await self.timer(duration)

    # -- signals
    def signal_channel(self, name: str, type_hint: Any = None) -> SignalChannel[Any]:
        """The channel of signals named ``name``; values decode to ``type_hint``."""
        return SignalChannel(self._run, name, type_hint)

    def signal_workflow(self, instance_id: str, name: str, value: Any = None) -> Future[None]:
        """Signals the active execution of ``instance_id`` when this task commits.

        Returns a future that resolves with None once the signal is in the
        target's inbox, or fails with
        :class:`~durable.errors.InstanceNotFoundError` when the instance does
        not exist or has finished (the signal is dropped). Awaiting it is
        optional: ``ctx.signal_workflow(...)`` alone is fire-and-forget and
        never raises for an undelivered signal. A workflow may signal its own
        instance, and a child it starts in the same step, whichever call
        comes first.

        Raises CanceledError (and sends nothing) on a canceled derived scope.
        """
        run = self._run
        refused = self._scope.refuses()
        if refused is not None:
            raise refused
        seq = run._next_seq("external_signal")
        run._add_command(signal_external_workflow=protocol_pb2.SignalExternalWorkflow(
            seq=seq, instance_id=instance_id, signal_name=name,
            input=converter.encode(value)))
        # Like an activity's: canceling the scope interrupts a wait on it, but
        # the sent signal is not withdrawn and its answer still resolves it.
        future: Future[None] = Future(run)
        future._scope = self._scope
        run._pending_signals[seq] = future
        return future

    # -- side effects
    def side_effect(self, fn: Callable[[], T], result_type: Any = None) -> T:
        """Runs ``fn`` once and records its result; replays return the recorded value.

        Use it for small non-deterministic values (a random token, a config
        read). The result is JSON-encoded, and the value returned is always
        the decoded one, live or replayed.
        """
        run = self._run
        seq = run._next_seq("side_effect")
        recorded = run._recorded_side_effects.pop(seq, None)
        payload = recorded if recorded is not None else converter.encode(fn())
        run._add_command(record_side_effect=protocol_pb2.RecordSideEffect(seq=seq,
                                                                          result=payload))
        return converter.decode(payload, result_type)

    # -- concurrency
    def start(self, coro: Awaitable[T], name: str = "") -> Task[T]:
        """Runs ``coro`` concurrently on this run's loop and returns its task."""
        return Task(self._run, coro, name or getattr(coro, "__qualname__", "task"))

    # -- sub-workflows and continue-as-new
    def execute_child_workflow(self, workflow: Union[str, Callable[..., Any]], *args: Any,
                               instance_id: str = "", queue: str = "",
                               metadata: Optional[Mapping[str, str]] = None,
                               result_type: Any = None) -> ChildWorkflowHandle[Any]:
        """Starts a child workflow and returns its handle, a future of its result.

        Args:
            workflow: a workflow function (its registered name and return
                annotation are used) or a name registered by any worker, in
                any language.
            *args: the child's arguments, JSON-encoded one payload each.
            instance_id: the child's instance id; empty: the deterministic
                ``"<this run id>/child-<seq>"``. If an active instance has
                the id, the handle fails with ChildWorkflowAlreadyExistsError;
                a finished instance's id may be reused.
            queue: queue of the child's workflow tasks; empty: this
                workflow's queue.
            metadata: added to this workflow's metadata, which the child
                inherits (its own entries win).
            result_type: type to decode the result into (default: the
                function's return annotation, or plain JSON for a name).

        Canceling this context's scope (the instance's cancellation for the
        workflow's own context) asks the child to cancel too, as does
        :meth:`ChildWorkflowHandle.cancel`; a child canceled in the
        activation that started it never runs.
        """
        run = self._run
        if isinstance(workflow, str):
            name, hint = workflow, result_type
        else:
            definition = WorkflowDefinition.of(workflow)
            name = definition.name
            hint = result_type if result_type is not None else definition.return_hint
        payloads = [converter.encode(a) for a in args]
        refused = self._scope.refuses()
        if refused is not None:
            handle: ChildWorkflowHandle[Any] = ChildWorkflowHandle(run, 0, instance_id, name, hint)
            error = ChildWorkflowCanceledError(
                f'child workflow "{name}" not started: {refused.message}',
                type=CANCELED_FAILURE_TYPE)
            error.instance_id = instance_id
            handle._set_exception(error)
            return handle
        seq = run._next_seq("child")
        run._add_command(start_child_workflow=protocol_pb2.StartChildWorkflow(
            seq=seq, instance_id=instance_id, workflow_name=name, arguments=payloads,
            queue=queue, metadata=dict(metadata or {})))
        handle = ChildWorkflowHandle(run, seq, instance_id or f"{run.run_id}/child-{seq}", name,
                                     hint)
        handle._scope = self._scope
        run._pending_children[seq] = handle
        self._scope.child_workflows[seq] = handle
        run._track_op_before_cancel(handle, self._scope)
        return handle

    def continue_as_new(self, *args: Any, workflow: Union[str, Callable[..., Any], None] = None,
                        remove_previous_executions: bool = False) -> NoReturn:
        """Ends this run and continues the instance as a new execution with ``args``.

        Raises :class:`ContinueAsNewError`; let it propagate out of the
        workflow function (it is a BaseException, so ``except Exception``
        does not catch it). The instance keeps its id and gets a new
        execution id and an empty history; this execution ends in state
        ``CONTINUED_AS_NEW``; a client or a parent waiting on the instance
        gets the final execution's result. ``workflow`` switches to another
        workflow; ``remove_previous_executions`` deletes the earlier
        executions. Signals this run has not received yet are handed to the
        next execution, ahead of any that arrive later.
        """
        raise ContinueAsNewError(*args, workflow=workflow,
                                 remove_previous_executions=remove_previous_executions)

    # -- versioning
    def patched(self, patch_id: str) -> bool:
        """True if this run takes the code path of change ``patch_id``.

        Live, it returns True and records a patch marker in history (once per
        id); replaying a history, it returns True only if that history holds
        the marker, so instances started by older code keep their old path.
        The answer is fixed for the run at the first call.

            if ctx.patched("add-audit"):
                await ctx.execute_activity(audit, order)

        Once no instance without the marker is left, replace the check by
        :meth:`deprecate_patch` and keep only the new branch.
        """
        run = self._run
        answer = run._patches.get(patch_id)
        if answer is None:
            answer = not run.is_replaying or patch_id in run._notified_patches
            run._patches[patch_id] = answer
            if answer:
                run._add_command(set_patch_marker=protocol_pb2.SetPatchMarker(patch_id=patch_id))
        return answer

    def deprecate_patch(self, patch_id: str) -> None:
        """Marks change ``patch_id`` as the only path left (after :meth:`patched`).

        Records a deprecated marker, which histories with and without the
        old marker both replay: use it once every instance that could lack
        the marker has finished, then remove the call in a later release.
        """
        run = self._run
        if patch_id in run._deprecated_patches:
            return
        run._deprecated_patches.add(patch_id)
        run._add_command(set_patch_marker=protocol_pb2.SetPatchMarker(patch_id=patch_id,
                                                                      deprecated=True))

    # -- cancellation scopes
    def with_cancel(self) -> Tuple["WorkflowContext", Callable[[], None]]:
        """A child context (scope) and the function that cancels it.

        The child is canceled with this context (at once if it already is)
        or by the function, which may be called any number of times, from
        workflow code of this run; canceling never reaches this context.
        Canceling it cancels the timers and child workflows started on it
        (and on contexts derived from it) and raises CanceledError into the
        coroutines waiting on its activities, timers, children and signal
        deliveries; activities keep running and their futures still resolve
        (a sent signal stays sent). New
        operations on a canceled child context fail at once with
        CanceledError, without a command.
        """
        scope = _Scope(self._run, self._scope)
        return WorkflowContext(self._run, scope), lambda: scope.cancel("context canceled")

    def disconnected(self) -> "WorkflowContext":
        """A context of this run that no cancellation reaches.

        Neither the instance's cancellation nor this context's reaches its
        timers and child workflows, or the coroutines awaiting its
        operations: use it for cleanup that must finish in a canceled
        workflow. ``with_cancel()`` on it works as usual.
        """
        return WorkflowContext(self._run, _Scope(self._run, None))


def _current_run() -> "_Run":
    run = getattr(_running, "run", None)
    if run is None:
        raise RuntimeError("durable.gather()/wait_any() may only be used inside workflow code")
    return run


_running = threading.local()


def gather(*aws: Awaitable[Any], return_exceptions: bool = False) -> Future[List[Any]]:
    """Awaits every awaitable (futures or coroutines) and returns their results in order.

    Coroutines are started as tasks, in argument order. The first failure (in
    completion order) fails the gather unless ``return_exceptions`` is true,
    in which case exceptions are returned in place of results.
    """
    run = _current_run()
    futures: List[Future[Any]] = [
        a if isinstance(a, Future) else Task(run, a, "gather") for a in aws]
    result: Future[List[Any]] = Future(run)
    remaining = [len(futures)]

    def on_done(f: Future[Any]) -> None:
        if result.done():
            return
        if f._exception is not None and not return_exceptions:
            result._set_exception(f._exception)
            return
        remaining[0] -= 1
        if remaining[0] == 0:
            result._set_result([x._exception if x._exception is not None else x._value
                                for x in futures])

    if not futures:
        result._set_result([])
    for f in futures:
        f._add_callback(on_done)
    return result


def wait_any(*waitables: Union[Future[Any], SignalChannel[Any]]) -> Future[Any]:
    """Waits until one of ``waitables`` is ready and returns it (go-workflows' Select).

    Futures are ready once resolved; a signal channel is ready when a signal
    is buffered (receive it with ``receive_nowait()``; waiting does not consume
    it). When several are ready, the first in argument order wins.
    """
    if not waitables:
        raise ValueError("wait_any() needs at least one future or signal channel")
    run = _current_run()
    readiness: List[Future[Any]] = [
        w._ready_future() if isinstance(w, SignalChannel) else w for w in waitables]
    result: Future[Any] = Future(run)

    def on_ready(_: Future[Any]) -> None:
        if result.done():
            return
        for waitable, ready in zip(waitables, readiness):
            if ready.done():
                result._set_result(waitable)
                break
        for ready in readiness:
            ready._remove_callback(on_ready)

    for ready in readiness:
        ready._add_callback(on_ready)
        if result.done():
            break
    return result


# --- the run -------------------------------------------------------------------------


class _ForbiddenLoop(asyncio.AbstractEventLoop):
    """Installed as the running asyncio loop while workflow code runs.

    ``asyncio.sleep()``, ``asyncio.create_task()`` and friends ask the running
    loop for futures and timers; this loop answers with a clear error instead of
    letting workflow code escape the deterministic loop.
    """

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__"):
            return object.__getattribute__(self, name)

        def forbidden(*args: Any, **kwargs: Any) -> Any:
            for arg in args:  # avoid "coroutine was never awaited" noise
                if asyncio.iscoroutine(arg):
                    arg.close()
            raise NonDeterministicAwaitError(
                f"workflow code used asyncio (event loop method {name}()), e.g. "
                "asyncio.sleep() or asyncio.create_task(). Workflows run on durable's "
                "deterministic loop: use ctx.sleep()/ctx.timer(), ctx.start(), "
                "durable.gather() and durable.wait_any(), and do I/O in activities.")

        return forbidden


_FORBIDDEN_LOOP = _ForbiddenLoop()


class _Run:
    """One workflow run: its tasks, pending commands and resolutions."""

    def __init__(self, workflows: Mapping[str, WorkflowDefinition], run_id: str) -> None:
        self.workflows = workflows
        self.run_id = run_id
        self.instance_id = ""
        self.workflow_name = ""
        self.queue = ""
        self.metadata: Dict[str, str] = {}
        self.time_us = 0
        self.is_replaying = False
        self.cancel_requested = False
        self.random = _random.Random(0)
        self.started = False
        self.finished = False
        self._activation_count = 0
        self.ctx = WorkflowContext(self)
        self.root: Optional[Task[Any]] = None
        self.result_hint: Any = None
        self._tasks: List[Task[Any]] = []
        self._current_task: Optional[Task[Any]] = None
        self._runnable: Deque[tuple] = collections.deque()
        self._commands: List[protocol_pb2.WorkflowCommand] = []
        self._seqs: Dict[str, int] = collections.defaultdict(int)
        self._pending_activities: Dict[int, tuple] = {}
        self._pending_timers: Dict[int, Timer] = {}
        self._pending_children: Dict[int, ChildWorkflowHandle[Any]] = {}
        self._pending_signals: Dict[int, Future[None]] = {}
        self._patches: Dict[str, bool] = {}
        self._notified_patches: Set[str] = set()
        self._deprecated_patches: Set[str] = set()
        self._recorded_side_effects: Dict[int, common_pb2.Payload] = {}
        self._signals: Dict[str, Deque[common_pb2.Payload]] = {}
        # The name of every signal delivered, in arrival order: each buffer
        # above holds the newest len(buffer) signals of its name.
        self._signal_arrivals: List[str] = []
        self._signal_waiters: Dict[str, List[Future[None]]] = {}

    # -- helpers for the context
    def _next_seq(self, kind: str) -> int:
        self._seqs[kind] += 1
        return self._seqs[kind]

    def _add_command(self, **variant: Any) -> None:
        self._commands.append(protocol_pb2.WorkflowCommand(**variant))

    def _schedule(self, task: Task[Any], error: Optional[BaseException]) -> None:
        self._runnable.append((task, error))

    def _track_op_before_cancel(self, op: Future[Any], scope: "_Scope") -> None:
        task = self._current_task
        if task is not None and task._cancel_on_wait is not None and scope.canceled:
            task._ops_before_cancel.append(op)

    # -- activation
    def activate(self, activation: protocol_pb2.WorkflowActivation
                 ) -> protocol_pb2.WorkflowActivationCompletion:
        self.instance_id = activation.instance_id
        self.time_us = activation.workflow_time_unix_us
        self.is_replaying = activation.is_replaying
        self._commands = []
        self._activation_count += 1
        completion = protocol_pb2.WorkflowActivationCompletion(run_id=self.run_id)
        jobs = activation.jobs
        # Not jobs[0]: on replay, ResolveSideEffect jobs come before StartWorkflow.
        if not self.started and not any(job.HasField("start_workflow") for job in jobs):
            completion.failed.CopyFrom(common_pb2.Failure(
                type="FAILED_PRECONDITION",
                message=f"run {self.run_id} is not cached and the activation does not start "
                        "it with a StartWorkflow job"))
            return completion
        try:
            for job in jobs:
                self._apply(job)
            self._run_until_blocked()
        except _ProtocolError as e:
            completion.failed.CopyFrom(common_pb2.Failure(type=e.kind, message=str(e)))
            return completion
        except BaseException as e:  # a binding bug or KeyboardInterrupt: retry the task
            completion.failed.CopyFrom(common_pb2.Failure(
                type="INTERNAL", message=f"{type(e).__name__}: {e}"))
            if not isinstance(e, Exception):
                raise
            return completion
        completion.successful.commands.extend(self._commands)
        self._commands = []
        return completion

    def _apply(self, job: protocol_pb2.WorkflowActivationJob) -> None:
        kind = job.WhichOneof("variant")
        if kind == "start_workflow":
            self._start(job.start_workflow)
        elif kind == "resolve_activity":
            self._resolve_activity(job.resolve_activity)
        elif kind == "fire_timer":
            self._fire_timer(job.fire_timer.seq)
        elif kind == "signal_workflow":
            signal = job.signal_workflow
            self._signals.setdefault(signal.signal_name, collections.deque()).append(signal.input)
            self._signal_arrivals.append(signal.signal_name)
            for waiter in self._signal_waiters.pop(signal.signal_name, []):
                waiter._set_result(None)
        elif kind == "cancel_workflow":
            self._cancel(job.cancel_workflow.reason)
        elif kind == "resolve_side_effect":
            self._recorded_side_effects[job.resolve_side_effect.seq] = \
                job.resolve_side_effect.result
        elif kind == "resolve_child_workflow":
            self._resolve_child(job.resolve_child_workflow)
        elif kind == "resolve_signal_external":
            self._resolve_signal_external(job.resolve_signal_external)
        elif kind == "notify_has_patch":
            self._notified_patches.add(job.notify_has_patch.patch_id)
        else:
            raise _ProtocolError("UNIMPLEMENTED",
                                 f"activation job {kind} is not supported by the Python binding")

    def _start(self, start: protocol_pb2.StartWorkflow) -> None:
        if self.started:
            raise _ProtocolError("FAILED_PRECONDITION", f"run {self.run_id} was started twice")
        self.started = True
        self.workflow_name = start.workflow_name
        self.queue = start.queue
        self.metadata = dict(start.metadata)
        self.random = _random.Random(start.randomness_seed)
        definition = self.workflows.get(start.workflow_name)
        # Neither failure can be fixed by running the workflow again: both
        # are final (a parent's retry policy does not restart the child).
        if definition is None:
            names = ", ".join(sorted(self.workflows)) or "none"
            self._finish_failed(common_pb2.Failure(
                type=WORKFLOW_NOT_REGISTERED,
                message=f'workflow "{start.workflow_name}" is not registered with this worker '
                        f"(registered: {names})", non_retryable=True))
            return
        try:
            args = converter.decode_call_arguments(f'workflow "{start.workflow_name}"',
                                                   start.arguments, definition.param_hints,
                                                   definition.signature)
        except PayloadError as e:
            self._finish_failed(common_pb2.Failure(
                type=INVALID_ARGUMENT_FAILURE, message=e.message, non_retryable=True))
            return
        self.result_hint = definition.return_hint
        self.root = Task(self, definition.fn(self.ctx, *args), start.workflow_name)

    def _resolve_activity(self, resolve: protocol_pb2.ResolveActivity) -> None:
        entry = self._pending_activities.pop(resolve.seq, None)
        if entry is None and resolve.seq > self._seqs["activity"]:
            # Several tasks batched into one activation: run the code up to
            # where it scheduled the activity, as it ran originally.
            self._run_until_blocked()
            entry = self._pending_activities.pop(resolve.seq, None)
        if entry is None:
            raise _ProtocolError("FAILED_PRECONDITION",
                                 f"ResolveActivity for seq {resolve.seq}, which is not a "
                                 f"pending activity of run {self.run_id}")
        future, hint = entry
        if resolve.HasField("failed"):
            future._set_exception(error_from_failure(resolve.failed, ActivityError))
            return
        try:
            value = converter.decode(resolve.completed, hint)
        except PayloadError as e:
            future._set_exception(e)
            return
        future._set_result(value)

    def _resolve_child(self, resolve: protocol_pb2.ResolveChildWorkflow) -> None:
        child = self._pending_children.get(resolve.seq)
        if child is None and resolve.seq > self._seqs["child"]:
            self._run_until_blocked()
            child = self._pending_children.get(resolve.seq)
        if child is None:
            raise _ProtocolError("FAILED_PRECONDITION",
                                 f"ResolveChildWorkflow for seq {resolve.seq}, which is not a "
                                 f"pending child workflow of run {self.run_id}")
        child._resolve(resolve)

    def _resolve_signal_external(self, resolve: protocol_pb2.ResolveSignalExternal) -> None:
        future = self._pending_signals.pop(resolve.seq, None)
        if future is None and resolve.seq > self._seqs["external_signal"]:
            self._run_until_blocked()  # batched tasks, as in _resolve_activity
            future = self._pending_signals.pop(resolve.seq, None)
        if future is None:
            raise _ProtocolError("FAILED_PRECONDITION",
                                 f"ResolveSignalExternal for seq {resolve.seq}, which is not a "
                                 f"pending external signal of run {self.run_id}")
        if resolve.HasField("failure"):
            future._set_exception(error_from_failure(resolve.failure))
        else:
            future._set_result(None)

    def _fire_timer(self, seq: int) -> None:
        timer = self._pending_timers.get(seq)
        if timer is None and seq > self._seqs["timer"]:
            self._run_until_blocked()
            timer = self._pending_timers.get(seq)
        if timer is not None:
            timer._forget()
            timer._set_result(None)
        # else: the timer was canceled by this run already; nothing waits.

    def _cancel(self, reason: str) -> None:
        if self.cancel_requested:
            return
        self.cancel_requested = True
        message = f"workflow canceled{': ' + reason if reason else ''}"
        live = [task for task in self._tasks if not task.done()]
        not_started = [task for task in live if not task._started]
        resuming = [task for task in live if task._started and task._waiting_on is None]
        # The workflow's scope and the scopes derived from it (not the
        # disconnected ones), then every coroutine waiting on something that
        # belongs to no scope (another task, gather, wait_any, a signal).
        self.ctx._scope.cancel(message)
        for task in live:
            waiting_on = task._waiting_on
            if waiting_on is not None and waiting_on._scope is None:
                task._cancel_wait(CanceledError(message))
        # Coroutines that were not waiting see it where they resume, or (not
        # started yet) at their first blocking await.
        for task in resuming:
            if task._resumed_from is None or _reached_by_cancellation(task._resumed_from):
                task._cancel_on_resume = message
        for task in not_started:
            task._cancel_on_wait = message

    def _run_until_blocked(self) -> None:
        _running.run = self
        previous_loop = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(_FORBIDDEN_LOOP)
        try:
            while self._runnable and not self.finished:
                task, error = self._runnable.popleft()
                if not task.done():
                    self._current_task = task
                    try:
                        task._step(error)
                    finally:
                        self._current_task = None
                self._finish_if_done()
        finally:
            asyncio.events._set_running_loop(previous_loop)
            _running.run = None

    def _unreceived_signals(self) -> List[protocol_pb2.SignalWorkflow]:
        """The buffered signals of every name, in arrival order.

        Continuing as new hands them to the next execution, so no signal the
        code did not receive is lost.
        """
        left = {name: len(buffer) for name, buffer in self._signals.items() if buffer}
        names: List[str] = []
        for name in reversed(self._signal_arrivals):
            if left.get(name, 0) > 0:
                left[name] -= 1
                names.append(name)
        names.reverse()
        taken = {name: 0 for name in names}
        unreceived = []
        for name in names:
            unreceived.append(protocol_pb2.SignalWorkflow(
                signal_name=name, input=self._signals[name][taken[name]]))
            taken[name] += 1
        return unreceived

    def _finish_if_done(self) -> None:
        root = self.root
        if self.finished or root is None or not root.done():
            return
        error = root._exception
        if isinstance(error, ContinueAsNewError):
            self.finished = True
            self._add_command(continue_as_new=protocol_pb2.ContinueAsNew(
                workflow_name=error.workflow_name, arguments=error.arguments,
                remove_previous_executions=error.remove_previous_executions,
                unreceived_signals=self._unreceived_signals()))
            return
        if error is None:
            try:
                payload = converter.encode(root._value)
            except PayloadError as e:
                error = e
            else:
                self.finished = True
                self._add_command(complete_workflow=protocol_pb2.CompleteWorkflow(result=payload))
                return
        self._finish_failed(failure_from_exception(error))

    def _finish_failed(self, failure: common_pb2.Failure) -> None:
        self.finished = True
        self._add_command(fail_workflow=protocol_pb2.FailWorkflow(failure=failure))

    def close(self) -> None:
        """Drops the run (eviction): closes every coroutine still suspended."""
        self.finished = True
        for task in self._tasks:
            if not task.done():
                task._close()
        self._tasks.clear()
        self._runnable.clear()


class _ProtocolError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class WorkflowExecutor:
    """Applies activations to cached runs (the binding's executor cache mirror)."""

    def __init__(self, workflows: Mapping[str, WorkflowDefinition]) -> None:
        self._workflows = workflows
        self._runs: Dict[str, _Run] = {}
        self._lock = threading.Lock()

    def process(self, activation: protocol_pb2.WorkflowActivation
                ) -> protocol_pb2.WorkflowActivationCompletion:
        run_id = activation.run_id
        evict = any(job.HasField("remove_from_cache") for job in activation.jobs)
        start = any(job.HasField("start_workflow") for job in activation.jobs)
        if evict:
            with self._lock:
                run = self._runs.pop(run_id, None)
            if run is not None:
                run.close()
            completion = protocol_pb2.WorkflowActivationCompletion(run_id=run_id)
            completion.successful.SetInParent()
            return completion
        with self._lock:
            run = self._runs.get(run_id)
            if start or run is None:
                if run is not None:
                    run.close()
                # A StartWorkflow always begins from scratch: replay rebuilds the run.
                run = _Run(self._workflows, run_id)
                self._runs[run_id] = run
        completion = run.activate(activation)
        if completion.HasField("failed"):
            with self._lock:
                if self._runs.get(run_id) is run:
                    del self._runs[run_id]
            run.close()
        return completion

    def cached_runs(self) -> int:
        with self._lock:
            return len(self._runs)

    def close(self) -> None:
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            run.close()
