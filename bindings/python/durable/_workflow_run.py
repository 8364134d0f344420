"""The run: executes the workflow code of one execution, one activation at a time.

The Python side of the C++ facade's internal/workflow_run.h and run_state.h.
For each activation (a batch of jobs from the core: start, activity resolved,
timer fired, signal, cancel, ...) the run applies the jobs in order, which
resolves futures and queues the tasks waiting on them, then steps the queued
tasks one at a time, first in first out, until every task is blocked again;
the commands they issued form the completion. All state of the execution
(sequence numbers, pending futures, buffered signals, recorded side effects,
patches, tasks) lives here, so a fresh run fed the same activations issues
the same commands: that is what makes replay after eviction work.
"""

from __future__ import annotations

import collections
import random as _random
from typing import Any, Deque, Dict, List, Mapping, Optional, Set

from durable import _loop, converter
from durable._cancellation import _reached_by_cancellation, _Scope
from durable._continue_as_new import ContinueAsNewError
from durable._future import Future
from durable._proto import common_pb2, protocol_pb2
from durable._sub_workflow import SubWorkflowHandle
from durable._task import Task
from durable._timer import Timer
from durable._workflow_context import WorkflowContext
from durable.errors import (INVALID_ARGUMENT_FAILURE, WORKFLOW_NOT_REGISTERED, ActivityError,
                            CanceledError, PayloadError, error_from_failure,
                            failure_from_exception)
from durable.registry import WorkflowDefinition


class _Run:
    """One workflow run (the code of one execution): its tasks, pending commands
    and resolutions."""

    def __init__(self, workflows: Mapping[str, WorkflowDefinition], execution_id: str) -> None:
        self.workflows = workflows
        self.execution_id = execution_id
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
        self._pending_sub_workflows: Dict[int, SubWorkflowHandle[Any]] = {}
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
        completion = protocol_pb2.WorkflowActivationCompletion(execution_id=self.execution_id)
        jobs = activation.jobs
        # Not jobs[0]: on replay, ResolveSideEffect jobs come before StartWorkflow.
        if not self.started and not any(job.HasField("start_workflow") for job in jobs):
            completion.failed.CopyFrom(common_pb2.Failure(
                type="FAILED_PRECONDITION",
                message=f"execution {self.execution_id} is not cached and the activation does "
                        "not start it with a StartWorkflow job"))
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
        elif kind == "resolve_sub_workflow":
            self._resolve_sub_workflow(job.resolve_sub_workflow)
        elif kind == "resolve_signal_external":
            self._resolve_signal_external(job.resolve_signal_external)
        elif kind == "notify_has_patch":
            self._notified_patches.add(job.notify_has_patch.patch_id)
        else:
            raise _ProtocolError("UNIMPLEMENTED",
                                 f"activation job {kind} is not supported by the Python binding")

    def _start(self, start: protocol_pb2.StartWorkflow) -> None:
        if self.started:
            raise _ProtocolError("FAILED_PRECONDITION",
                                 f"execution {self.execution_id} was started twice")
        self.started = True
        self.workflow_name = start.workflow_name
        self.queue = start.queue
        self.metadata = dict(start.metadata)
        self.random = _random.Random(start.randomness_seed)
        definition = self.workflows.get(start.workflow_name)
        # Neither failure can be fixed by running the workflow again: both
        # are final (a parent's retry policy does not restart the sub-workflow).
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
                                 f"pending activity of execution {self.execution_id}")
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

    def _resolve_sub_workflow(self, resolve: protocol_pb2.ResolveSubWorkflow) -> None:
        handle = self._pending_sub_workflows.get(resolve.seq)
        if handle is None and resolve.seq > self._seqs["sub_workflow"]:
            self._run_until_blocked()
            handle = self._pending_sub_workflows.get(resolve.seq)
        if handle is None:
            raise _ProtocolError("FAILED_PRECONDITION",
                                 f"ResolveSubWorkflow for seq {resolve.seq}, which is not a "
                                 f"pending sub-workflow of execution {self.execution_id}")
        handle._resolve(resolve)

    def _resolve_signal_external(self, resolve: protocol_pb2.ResolveSignalExternal) -> None:
        future = self._pending_signals.pop(resolve.seq, None)
        if future is None and resolve.seq > self._seqs["external_signal"]:
            self._run_until_blocked()  # batched tasks, as in _resolve_activity
            future = self._pending_signals.pop(resolve.seq, None)
        if future is None:
            raise _ProtocolError("FAILED_PRECONDITION",
                                 f"ResolveSignalExternal for seq {resolve.seq}, which is not a "
                                 f"pending external signal of execution {self.execution_id}")
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
        with _loop.running(self):
            while self._runnable and not self.finished:
                task, error = self._runnable.popleft()
                if not task.done():
                    self._current_task = task
                    try:
                        task._step(error)
                    finally:
                        self._current_task = None
                self._finish_if_done()

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
