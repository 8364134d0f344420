"""The worker: polls workflow activations and activity tasks and runs user code.

    with durable.Worker(backend, workflows=[workflow1],
                        activities=[activity1, activity2]):
        ...  # the worker polls in background threads until the block ends

Pollers are threads blocked in the C ABI with the GIL released. Workflow
activations are applied by the binding's deterministic loop on the polling
thread; activity tasks run on the polling thread too (plain functions), or on
the worker's own asyncio loop thread (``async def`` activities), so
``activity_pollers`` bounds how many activities run at once. A poller
survives anything user code raises (it becomes the activity's or the
workflow task's failure), and an answer the C ABI refuses as malformed is
replaced by a failure carrying the reason, so no task is left leased forever.

Leaving the ``with`` block (or :meth:`Worker.stop`, or Ctrl-C in
:meth:`Worker.run`) shuts down gracefully: no new tasks are taken, in-flight
activations and activity attempts finish and are reported, then leases still
held are released. Several workers, on the same or different backends, may
run in one process; a worker holds no global state.

Workers in several processes and languages may poll one queue with different
registrations (a Python worker beside a C++ one): each tells the engine what
it registered, the engine records it in the backend's worker registry
(:meth:`Client.workers` lists the live ones) and hands each worker only tasks
it runs -- plus tasks no live worker of the queue runs, which it fails at once
with ``WorkflowNotRegistered`` / ``ActivityNotRegistered``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import signal
import threading
import time
from typing import Any, Callable, Coroutine, Iterable, List, Optional, Sequence, Union

from durable._native import native
from durable._proto import protocol_pb2, service_pb2
from durable._activity import execute_activity_task
from durable.client import Backend
from durable.errors import (INVALID_ARGUMENT_FAILURE, ActivityAttemptTimedOutError, DurableError,
                            FailedPreconditionError, InvalidArgumentError, NotFoundError,
                            ShutdownError, WaitTimeoutError, failure_from_exception)
from durable.registry import ActivityDefinition, WorkflowDefinition, build_table
from durable._workflow import WorkflowExecutor

__all__ = ["Worker"]

_log = logging.getLogger("durable.worker")

Duration = Union[datetime.timedelta, float, int, None]


def _us(duration: Duration) -> int:
    if duration is None:
        return 0
    if isinstance(duration, datetime.timedelta):
        return duration // datetime.timedelta(microseconds=1)
    return int(duration * 1_000_000)


class Worker:
    """Runs workflows and activities registered with it, polling ``queues``.

    Args:
        backend: from :func:`durable.open`.
        workflows: workflow functions (``async def``, decorated or not) or
            definitions; registered under their decorator name or ``__name__``.
        activities: activity functions (plain or ``async def``).
        queues: queues polled for workflow and activity tasks (default
            ``["default"]``).
        max_cached_workflows: runs kept in the executor cache; 0 replays
            every run from history on every task. None: the engine default.
        workflow_pollers: threads polling activations (default 2 if any
            workflow is registered, else 0 - so a worker with only activities
            never takes workflow tasks it cannot run).
        activity_pollers: threads polling activity tasks = activities run at
            once (default 4 if any activity is registered, else 0).
        workflow_task_lease, activity_task_lease: lease durations (timedelta
            or seconds; None: the engine defaults).
        fail_workflow_on_nondeterminism: fail the workflow instead of retrying
            the task when replayed code differs from history.
        workflow_task_retry_delay: delay before a failed workflow task is
            retried (None: the engine default).
        max_history_length: a workflow whose history would grow past this
            many events fails with type ``"HistoryLimitExceeded"``
            (:class:`~durable.errors.HistoryLimitExceededError`); None: the
            engine default (50,000).
        worker_ttl: how long this worker counts as live for the other
            workers of its queues after each of its heartbeats (sent every
            third of it); a worker that dies without stopping keeps its names
            reserved that long. None: the engine default (30 s).
        poll_timeout: how long one poll blocks (bounds how late a stop is
            noticed when the backend is idle).
    """

    def __init__(self, backend: Backend, *, workflows: Iterable[Any] = (),
                 activities: Iterable[Any] = (), queues: Optional[Sequence[str]] = None,
                 max_cached_workflows: Optional[int] = None,
                 workflow_pollers: Optional[int] = None, activity_pollers: Optional[int] = None,
                 workflow_task_lease: Duration = None, activity_task_lease: Duration = None,
                 fail_workflow_on_nondeterminism: bool = False,
                 workflow_task_retry_delay: Duration = None,
                 max_history_length: Optional[int] = None,
                 worker_ttl: Duration = None,
                 poll_timeout: float = 1.0) -> None:
        self._backend = backend
        self._workflows = build_table(workflows, "workflow", WorkflowDefinition.of)
        self._activities = build_table(activities, "activity", ActivityDefinition.of)
        self._options = service_pb2.WorkerOptions(
            queues=list(queues or []),
            workflow_task_lease_us=_us(workflow_task_lease),
            activity_task_lease_us=_us(activity_task_lease),
            fail_workflow_on_nondeterminism=fail_workflow_on_nondeterminism,
            workflow_task_retry_delay_us=_us(workflow_task_retry_delay),
            worker_ttl_us=_us(worker_ttl))
        if max_history_length is not None:
            if max_history_length <= 0:
                raise ValueError("max_history_length must be positive")
            self._options.max_history_length = max_history_length
        if max_cached_workflows is not None:
            if max_cached_workflows < 0:
                raise ValueError("max_cached_workflows must not be negative")
            self._options.max_cached_workflows = max_cached_workflows
        self._workflow_pollers = (workflow_pollers if workflow_pollers is not None
                                  else (2 if self._workflows else 0))
        self._activity_pollers = (activity_pollers if activity_pollers is not None
                                  else (4 if self._activities else 0))
        if self._workflow_pollers < 0 or self._activity_pollers < 0:
            raise ValueError("workflow_pollers and activity_pollers must not be negative")
        # What this worker runs, so the engine hands it only those tasks (and
        # tasks no live worker of its queues runs, which it fails at once):
        # a kind it does not poll, it runs none of.
        names = self._options.registered_names
        names.SetInParent()
        if self._workflow_pollers:
            names.workflow_names.extend(sorted(self._workflows))
        if self._activity_pollers:
            names.activity_names.extend(sorted(self._activities))
        self._poll_timeout_ms = max(1, int(poll_timeout * 1000))
        self._executor = WorkflowExecutor(self._workflows)
        self._lock = threading.Lock()
        self._native: Any = None
        self._threads: List[threading.Thread] = []
        self._stopping = False
        self._stop_deadline = float("inf")
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[threading.Thread] = None

    # -- lifecycle
    @property
    def is_running(self) -> bool:
        return self._native is not None and not self._stopping

    @property
    def workflow_names(self) -> List[str]:
        return sorted(self._workflows)

    @property
    def activity_names(self) -> List[str]:
        return sorted(self._activities)

    def start(self) -> "Worker":
        """Creates the core worker and starts the poller threads."""
        with self._lock:
            if self._native is not None or self._stopping:
                raise FailedPreconditionError("the worker was already started")
            self._native = native.Worker(self._backend._native, self._options.SerializeToString())
            if any(d.is_async for d in self._activities.values()) and self._activity_pollers:
                self._loop = asyncio.new_event_loop()
                self._loop_thread = threading.Thread(
                    target=self._loop.run_forever, name="durable-activity-loop", daemon=True)
                self._loop_thread.start()
            for i in range(self._workflow_pollers):
                self._spawn(lambda: self._poll_forever(self._poll_workflow_activation, "workflow"),
                            f"durable-workflow-poller-{i}")
            for i in range(self._activity_pollers):
                self._spawn(lambda: self._poll_forever(self._poll_activity_task, "activity"),
                            f"durable-activity-poller-{i}")
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        # Daemon threads: a worker that is never stopped must not keep the
        # interpreter alive; stop() joins them.
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: Duration = 30.0) -> bool:
        """Shuts down gracefully; returns False if in-flight work outlived ``timeout``.

        Stops taking tasks, lets in-flight activations and activity attempts
        finish and be reported (up to ``timeout``), then releases leases that
        are still held. Idempotent.
        """
        timeout_s = (timeout.total_seconds() if isinstance(timeout, datetime.timedelta)
                     else float(timeout if timeout is not None else 0))
        with self._lock:
            if self._native is None:
                self._stopping = True
                return True
            self._stopping = True
            self._stop_deadline = time.monotonic() + timeout_s
            self._native.initiate_shutdown()
            for thread in self._threads:
                thread.join(max(0.0, self._stop_deadline - time.monotonic()) + 1.0)
            self._threads.clear()
            clean = True
            try:
                remaining_ms = int(max(0.0, self._stop_deadline - time.monotonic()) * 1000)
                self._native.finalize_shutdown(remaining_ms)
            except WaitTimeoutError as e:
                _log.warning("worker stop: in-flight work outlived the timeout: %s", e)
                clean = False
            self._native.close()
            self._native = None
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._loop_thread is not None:
                    self._loop_thread.join(5)
                self._loop.close()
                self._loop = None
            self._executor.close()
            return clean

    def run(self) -> None:
        """Starts the worker (if needed) and blocks until Ctrl-C or SIGTERM, then stops it.

        The signal handlers are installed only when called from the main thread.
        """
        if self._native is None:
            self.start()
        stop = threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            _log.info("worker: interrupted, shutting down")
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self.stop()

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- pollers
    def _past_stop_deadline(self) -> bool:
        return self._stopping and time.monotonic() > self._stop_deadline

    def _run_async(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # Every poller loop survives any exception from user code, from formatting
    # it, or from the binding itself: a poller thread that died would leave
    # the worker with fewer pollers, and after the last one it runs nothing.
    def _poll_forever(self, poll_once: Callable[[Any], bool], kind: str) -> None:
        worker = self._native
        while True:
            try:
                if not poll_once(worker):
                    return
            except BaseException:  # noqa: BLE001 - keep polling whatever happened
                _log.exception("worker: a %s poller caught an unexpected error", kind)
                if self._stopping:
                    return
                time.sleep(0.2)

    def _poll_workflow_activation(self, worker: Any) -> bool:
        """Polls and answers one activation; False once the poller should stop."""
        try:
            data = worker.poll_workflow_activation(self._poll_timeout_ms)
        except ShutdownError:
            return False
        except DurableError as e:
            _log.error("worker: polling a workflow activation failed: %s", e)
            if self._stopping:
                return False
            time.sleep(0.2)
            return True
        if data is None:
            return not self._past_stop_deadline()
        activation = protocol_pb2.WorkflowActivation.FromString(data)
        try:
            completion = self._executor.process(activation)
        except BaseException as e:  # noqa: BLE001 - a binding bug: fail the task, keep polling
            _log.exception("worker: processing an activation failed")
            completion = protocol_pb2.WorkflowActivationCompletion(execution_id=activation.execution_id)
            completion.failed.CopyFrom(failure_from_exception(e))
            completion.failed.message = f"{type(e).__name__}: {completion.failed.message}"
            completion.failed.type = "INTERNAL"
        try:
            worker.complete_workflow_activation(completion.SerializeToString())
        except InvalidArgumentError as e:
            # Refused before the engine saw it (an instance id with NUL, say):
            # nothing happened and the activation still awaits an answer. Fail
            # the workflow task with the reason (it is retried later) rather
            # than leave its lease to be renewed forever.
            _log.warning("worker: workflow instance %s (run %s): durable refused the "
                         "completion: %s", activation.instance_id, activation.execution_id, e)
            failed = protocol_pb2.WorkflowActivationCompletion(execution_id=activation.execution_id)
            failed.failed.type = INVALID_ARGUMENT_FAILURE
            failed.failed.message = f"durable refused the workflow's completion: {e.message}"
            _complete_quietly(worker.complete_workflow_activation, failed, activation)
        except DurableError as e:
            _log.warning("worker: completing the activation of workflow instance %s "
                         "(run %s) failed: %s", activation.instance_id, activation.execution_id, e)
        return True

    def _poll_activity_task(self, worker: Any) -> bool:
        """Polls, runs and reports one activity attempt; False once the poller should stop."""
        try:
            data = worker.poll_activity_task(self._poll_timeout_ms)
        except ShutdownError:
            return False
        except DurableError as e:
            _log.error("worker: polling an activity task failed: %s", e)
            if self._stopping:
                return False
            time.sleep(0.2)
            return True
        if data is None:
            return True
        task = protocol_pb2.ActivityTask.FromString(data)
        try:
            result = execute_activity_task(self._activities, task, self._run_async,
                                           worker.record_activity_heartbeat)
        except BaseException as e:  # noqa: BLE001 - SystemExit, CancelledError, a binding bug
            result = protocol_pb2.ActivityTaskResult(task_token=task.task_token)
            result.failed.CopyFrom(failure_from_exception(e))
        _complete_activity(worker, task, result)
        return True


def _complete_activity(worker: Any, task: protocol_pb2.ActivityTask,
                       result: protocol_pb2.ActivityTaskResult) -> None:
    """Reports an attempt's outcome; one that durable refuses becomes the attempt's failure."""
    try:
        worker.complete_activity_task(result.SerializeToString())
    except InvalidArgumentError as e:
        # Refused before the engine saw it: the attempt is still in flight.
        # Fail it, not retried (the same code would most likely produce the
        # same result), rather than leave its lease to be renewed forever.
        _log.warning('worker: durable refused the result of activity "%s" of workflow '
                     "instance %s: %s", task.activity_name, task.instance_id, e)
        failed = protocol_pb2.ActivityTaskResult(task_token=task.task_token)
        failed.failed.type = INVALID_ARGUMENT_FAILURE
        failed.failed.message = (f'durable refused the result of activity '
                                 f'"{task.activity_name}": {e.message}')
        failed.failed.non_retryable = True
        _complete_quietly(worker.complete_activity_task, failed, task)
    except NotFoundError as e:
        # The attempt timed out while it ran; the engine already failed (and
        # maybe retried) it, so its late outcome is dropped.
        level = (logging.DEBUG if result.failed.type == ActivityAttemptTimedOutError.__name__
                 else logging.INFO)
        _log.log(level, 'worker: late outcome of activity "%s" (attempt %d) of workflow '
                 "instance %s dropped: %s", task.activity_name, task.attempt,
                 task.instance_id, e)
    except DurableError as e:
        _log.warning('worker: completing activity "%s" of workflow instance %s '
                     "failed: %s", task.activity_name, task.instance_id, e)


def _complete_quietly(complete: Callable[[bytes], None], message: Any, about: Any) -> None:
    """Sends the answer that replaces a refused one; logs if that fails too."""
    try:
        complete(message.SerializeToString())
    except DurableError as e:
        _log.warning("worker: workflow instance %s: the replacement answer failed too: %s",
                     about.instance_id, e)
