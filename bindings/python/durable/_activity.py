"""Activities: the context they may ask for, and how one attempt is executed.

An activity is a plain function (run on a worker thread) or an ``async def``
(run on the worker's asyncio loop). It gets an :class:`ActivityContext` as its
first argument if that parameter is annotated with it, and can always reach the
current one with :meth:`ActivityContext.current`:

    @durable.activity
    def charge(ctx: durable.ActivityContext, order: Order) -> str:
        ctx.logger.info("attempt %d", ctx.attempt)
        ...

Whatever the function returns is JSON-encoded as the result; an exception
becomes the attempt's failure (type = the exception's class name, message =
``str(exception)``), retried according to the activity's retry policy. An
activity no worker registered (``"ActivityNotRegistered"``) and arguments that
do not fit the function (``"InvalidArgument"``: a wrong count, or a payload
that does not decode, naming the argument) fail at once, never retried.

Long activities call :meth:`ActivityContext.heartbeat` regularly: under a
heartbeat timeout an attempt that stops heartbeating fails with type
``"HeartbeatTimeout"`` (and is retried per its policy), and once an attempt
timed out (any of its timeouts) ``heartbeat()`` raises
:class:`~durable.errors.ActivityAttemptTimedOutError` so the code stops.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
from typing import Any, Callable, Mapping, Optional

from durable import converter
from durable._proto import protocol_pb2
from durable.errors import (ACTIVITY_NOT_REGISTERED, INVALID_ARGUMENT_FAILURE,
                            ActivityAttemptTimedOutError, NotFoundError, PayloadError,
                            failure_from_exception)
from durable.registry import ActivityDefinition

__all__ = ["ActivityContext"]

_current: contextvars.ContextVar["ActivityContext"] = contextvars.ContextVar(
    "durable_activity_context")
_log = logging.getLogger("durable.activity")


class ActivityContext:
    """What an activity attempt knows about itself.

    Attributes:
        activity_id: stable id of the activity (the same for every attempt).
        activity_name: registered name.
        instance_id, execution_id: the workflow instance and execution that scheduled it.
        attempt: 0 for the first attempt, 1 for the first retry, ...
        queue: the activity task's queue.
        metadata: the owning workflow's metadata.
        scheduled_time: when the first attempt was scheduled (UTC).
        logger: a logger whose lines name the activity and its instance.
    """

    def __init__(self, task: protocol_pb2.ActivityTask,
                 record_heartbeat: Optional[Callable[[bytes], None]] = None) -> None:
        self.activity_id: str = task.activity_id
        self.activity_name: str = task.activity_name
        self.instance_id: str = task.instance_id
        self.execution_id: str = task.execution_id
        self.attempt: int = task.attempt
        self.queue: str = task.queue
        self.metadata: Mapping[str, str] = dict(task.metadata)
        self.scheduled_time = datetime.datetime.fromtimestamp(
            task.scheduled_time_unix_us / 1_000_000, tz=datetime.timezone.utc)
        self.logger = logging.LoggerAdapter(
            _log, {"activity": task.activity_name, "instance_id": task.instance_id})
        self.heartbeat_details: Any = None
        """The details of the last :meth:`heartbeat` of this attempt."""
        self.timed_out = False
        """True once :meth:`heartbeat` found the attempt timed out."""
        self._task_token = task.task_token
        self._record_heartbeat = record_heartbeat

    def heartbeat(self, details: Any = None) -> None:
        """Tells the engine the attempt is alive, with optional progress ``details``.

        Resets the attempt's heartbeat timeout (``heartbeat_timeout=`` of
        ``execute_activity``); the task's lease is renewed by the worker
        either way. ``details`` (JSON-encodable) are sent with the heartbeat
        (the engine logs them; they are not handed to the next attempt yet)
        and kept in :attr:`heartbeat_details`. Cheap enough to call every few
        milliseconds; blocking only briefly, with the GIL released.

        Raises:
            ActivityAttemptTimedOutError: the attempt already timed out
                (heartbeat, start-to-close or schedule-to-close timeout): the
                engine failed it and retries it per the policy, and this
                attempt's result would be discarded. Let it propagate.
        """
        self.heartbeat_details = details
        if self._record_heartbeat is None:
            return
        heartbeat = protocol_pb2.ActivityHeartbeat(task_token=self._task_token)
        if details is not None:
            heartbeat.details.CopyFrom(converter.encode(details))
        try:
            self._record_heartbeat(heartbeat.SerializeToString())
        except NotFoundError as e:
            self.timed_out = True
            raise ActivityAttemptTimedOutError(
                f'activity "{self.activity_name}" (attempt {self.attempt}) of workflow '
                f"instance {self.instance_id} timed out; its result would be discarded "
                f"({e.message})") from None

    @staticmethod
    def current() -> "ActivityContext":
        """The context of the activity running in this thread or asyncio task."""
        try:
            return _current.get()
        except LookupError:
            raise RuntimeError("ActivityContext.current() called outside an activity") from None


def execute_activity_task(activities: Mapping[str, ActivityDefinition],
                          task: protocol_pb2.ActivityTask,
                          run_async: Callable[[Any], Any],
                          record_heartbeat: Optional[Callable[[bytes], None]] = None
                          ) -> protocol_pb2.ActivityTaskResult:
    """Runs one attempt and returns its result message (never raises for user errors).

    ``run_async(coroutine)`` runs a coroutine to completion on the worker's
    asyncio loop and returns its value (or raises its exception);
    ``record_heartbeat(ActivityHeartbeat bytes)`` sends a heartbeat (raising
    NotFoundError once the attempt timed out).
    """
    result = protocol_pb2.ActivityTaskResult(task_token=task.task_token)
    definition = activities.get(task.activity_name)
    # Neither failure below can be fixed by another attempt: both are final,
    # whatever the retry policy says.
    if definition is None:
        names = ", ".join(sorted(activities)) or "none"
        result.failed.type = ACTIVITY_NOT_REGISTERED
        result.failed.message = (f'activity "{task.activity_name}" is not registered with this '
                                 f"worker (registered: {names})")
        result.failed.non_retryable = True
        return result
    try:
        args = converter.decode_call_arguments(f'activity "{task.activity_name}"',
                                               task.arguments, definition.param_hints,
                                               definition.signature)
    except PayloadError as e:
        result.failed.type = INVALID_ARGUMENT_FAILURE
        result.failed.message = e.message
        result.failed.non_retryable = True
        return result
    ctx = ActivityContext(task, record_heartbeat)
    call_args = ([ctx] if definition.takes_context else []) + args
    try:
        if definition.is_async:
            async def run() -> Any:
                _current.set(ctx)  # inside the task: its own context copy
                return await definition.fn(*call_args)

            value = run_async(run())
        else:
            token = _current.set(ctx)
            try:
                value = definition.fn(*call_args)
            finally:
                _current.reset(token)
        result.completed.CopyFrom(converter.encode(value))
    except Exception as e:  # noqa: BLE001 - user code may raise anything
        ctx.logger.debug("activity %s attempt %d failed", task.activity_name, task.attempt,
                         exc_info=True)
        result.failed.CopyFrom(failure_from_exception(e))
    return result
