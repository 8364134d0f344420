"""WorkflowContext: the workflow code's only window on the world.

The Python side of the C++ facade's workflow_context.h. Everything that could
differ between a run and its replay (time, randomness, activity results,
timers, signals, side effects, patches) is reached through the context, which
turns each operation into a command of its run and a future (or a recorded
value) that history resolves. A context is also a cancellation scope
(_cancellation.py); ``with_cancel()`` and ``disconnected()`` derive more
contexts of the same run.
"""

from __future__ import annotations

import datetime
import logging
import random as _random
import uuid
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, Mapping, NoReturn, Optional, Tuple,
                    TypeVar, Union)

from durable import converter
from durable._cancellation import _Scope
from durable._continue_as_new import ContinueAsNewError
from durable._future import Future
from durable._options import Duration, RetryPolicy, _to_us
from durable._proto import protocol_pb2
from durable._signal_channel import SignalChannel
from durable._sub_workflow import SubWorkflowHandle
from durable._task import Task
from durable._timer import Timer
from durable.errors import CANCELED_FAILURE_TYPE, SubWorkflowCanceledError
from durable.registry import ActivityDefinition, WorkflowDefinition

if TYPE_CHECKING:
    from durable._workflow_run import _Run

T = TypeVar("T")

_log = logging.getLogger("durable.workflow")


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
    def execution_id(self) -> str:
        """The execution id: this execution of the instance (continue-as-new starts
        another). The same as the protocol's ``execution_id`` and
        ``ActivityContext.execution_id``."""
        return self._run.execution_id

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
        instance, and a sub-workflow it starts in the same step, whichever call
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
    def execute_sub_workflow(self, workflow: Union[str, Callable[..., Any]], *args: Any,
                             instance_id: str = "", queue: str = "",
                             metadata: Optional[Mapping[str, str]] = None,
                             result_type: Any = None) -> SubWorkflowHandle[Any]:
        """Starts a sub-workflow and returns its handle, a future of its result.

        Args:
            workflow: a workflow function (its registered name and return
                annotation are used) or a name registered by any worker, in
                any language.
            *args: the sub-workflow's arguments, JSON-encoded one payload each.
            instance_id: the sub-workflow's instance id; empty: the deterministic
                ``"<this execution id>/child-<seq>"``. If an active instance has
                the id, the handle fails with SubWorkflowAlreadyExistsError;
                a finished instance's id may be reused.
            queue: queue of the sub-workflow's tasks; empty: this
                workflow's queue.
            metadata: added to this workflow's metadata, which the
                sub-workflow inherits (its own entries win).
            result_type: type to decode the result into (default: the
                function's return annotation, or plain JSON for a name).

        Canceling this context's scope (the instance's cancellation for the
        workflow's own context) asks the sub-workflow to cancel too, as does
        :meth:`SubWorkflowHandle.cancel`; a sub-workflow canceled in the
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
            handle: SubWorkflowHandle[Any] = SubWorkflowHandle(run, 0, instance_id, name, hint)
            error = SubWorkflowCanceledError(
                f'sub-workflow "{name}" not started: {refused.message}',
                type=CANCELED_FAILURE_TYPE)
            error.instance_id = instance_id
            handle._set_exception(error)
            return handle
        seq = run._next_seq("sub_workflow")
        run._add_command(start_sub_workflow=protocol_pb2.StartSubWorkflow(
            seq=seq, instance_id=instance_id, workflow_name=name, arguments=payloads,
            queue=queue, metadata=dict(metadata or {})))
        handle = SubWorkflowHandle(run, seq,
                                   instance_id or f"{run.execution_id}/child-{seq}", name,
                                   hint)
        handle._scope = self._scope
        run._pending_sub_workflows[seq] = handle
        self._scope.sub_workflows[seq] = handle
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
        Canceling it cancels the timers and sub-workflows started on it
        (and on contexts derived from it) and raises CanceledError into the
        coroutines waiting on its activities, timers, sub-workflows and signal
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
        timers and sub-workflows, or the coroutines awaiting its
        operations: use it for cleanup that must finish in a canceled
        workflow. ``with_cancel()`` on it works as usual.
        """
        return WorkflowContext(self._run, _Scope(self._run, None))
