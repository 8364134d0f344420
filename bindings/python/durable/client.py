"""Backends and the client: start workflow instances and observe them."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import time
from typing import Any, Callable, List, Mapping, Optional, Union

from durable import converter
from durable._native import native
from durable._proto import history_pb2, service_pb2
from durable.errors import WaitTimeoutError, WorkflowFailedError, error_from_failure
from durable.registry import workflow_name

__all__ = ["Backend", "open", "Client", "WorkflowInstance", "WorkflowState",
           "WorkflowInstanceState", "HistoryEvent", "WorkerInfo"]

Timeout = Union[datetime.timedelta, float, int, None]


class Backend:
    """An open backend (a database). Create with :func:`durable.open`.

    Clients and workers keep the backend alive, so it may be closed before
    them. Usable as a context manager.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._native = native.Backend(uri)

    def close(self) -> None:
        """Releases this reference (clients and workers keep their own)."""
        self._native.close()

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"durable.Backend({self.uri!r})"


def open(uri: str) -> Backend:  # noqa: A001 - durable.open mirrors the URI-opening idiom
    """Opens the backend named by ``uri``.

    ``sqlite:///absolute/path/file.db`` (created if missing) or
    ``sqlite::memory:`` (private to this Backend object and everything made
    from it). A malformed or unsupported URI raises
    :class:`~durable.errors.InvalidArgumentError`.
    """
    return Backend(uri)


@dataclasses.dataclass(frozen=True)
class WorkflowInstance:
    """Names one execution of a workflow instance."""

    instance_id: str
    execution_id: str


class WorkflowState(enum.Enum):
    UNSPECIFIED = 0
    ACTIVE = 1
    FINISHED = 2
    CONTINUED_AS_NEW = 3


def _time(us: int) -> Optional[datetime.datetime]:
    if not us:
        return None
    return datetime.datetime.fromtimestamp(us / 1_000_000, tz=datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class WorkflowInstanceState:
    """The state of an instance's latest execution (``Client.state``)."""

    instance_id: str
    execution_id: str
    workflow_name: str
    queue: str
    state: WorkflowState
    created_at: Optional[datetime.datetime]
    finished_at: Optional[datetime.datetime]
    metadata: Mapping[str, str]
    #: Set when FINISHED: the result payload decoded as JSON, or None.
    result: Any
    #: Set when FINISHED with a failure.
    failure: Optional[WorkflowFailedError]
    #: The last workflow task failure that left history untouched (e.g.
    #: non-determinism) as (status code name, message), or None.
    last_task_failure: Optional[tuple]
    proto: service_pb2.WorkflowInstanceState = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class HistoryEvent:
    """One event of a history (``Client.history``).

    ``kind`` is the event's message name, e.g. ``"ActivityScheduled"``;
    ``attributes`` the ``durable.v1`` message itself.
    """

    id: int
    timestamp: Optional[datetime.datetime]
    kind: str
    attributes: Any


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """A live worker of the backend, in any process or language (``Client.workers``).

    ``workflow_names`` / ``activity_names`` are what it runs; ``None`` when
    it did not say (it may run any name of its queues).
    """

    worker_id: str
    host: str
    pid: int
    queues: List[str]
    workflow_names: Optional[List[str]]
    activity_names: Optional[List[str]]
    started_at: Optional[datetime.datetime]
    last_seen: Optional[datetime.datetime]
    ttl: datetime.timedelta
    proto: service_pb2.WorkerInfo = dataclasses.field(repr=False)


def _timeout_s(timeout: Timeout) -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


class Client:
    """Starts workflow instances and observes them; thread-safe.

    ``Client(backend)``; also usable as a context manager.
    """

    def __init__(self, backend: Backend) -> None:
        self._native = native.Client(backend._native)

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def create(self, workflow: Union[str, Callable[..., Any]], *args: Any,
               instance_id: str = "", queue: str = "",
               metadata: Optional[Mapping[str, str]] = None) -> WorkflowInstance:
        """Creates a workflow instance; returns its ids.

        Args:
            workflow: a workflow function or the name a workflow was
                registered under (in any language).
            *args: the workflow's arguments after its context, JSON-encoded.
            instance_id: empty generates a UUID.
            queue: queue of its workflow tasks (empty: "default").
            metadata: strings visible to the workflow and its activities.

        Raises:
            AlreadyExistsError: an active instance has ``instance_id``.
        """
        request = service_pb2.CreateWorkflowInstanceRequest(
            instance_id=instance_id, workflow_name=workflow_name(workflow),
            arguments=[converter.encode(a) for a in args], queue=queue,
            metadata=dict(metadata or {}))
        out = service_pb2.WorkflowInstance.FromString(
            self._native.create_workflow_instance(request.SerializeToString()))
        return WorkflowInstance(out.instance_id, out.execution_id)

    def result(self, instance: Union[str, WorkflowInstance], timeout: Timeout = None,
               result_type: Any = None) -> Any:
        """Waits for the instance to finish and returns its decoded result.

        ``timeout`` (timedelta or seconds; None waits forever) bounds the wait.
        ``result_type`` converts the JSON result (e.g. to a dataclass);
        without it the plain JSON value is returned.

        Raises:
            WorkflowFailedError: the workflow failed (``type``, ``message``,
                ``cause``); WorkflowNotRegisteredError and
                WorkflowCanceledError are subclasses.
            WaitTimeoutError: still running after ``timeout``.
            NotFoundError: unknown instance.
        """
        instance_id = instance.instance_id if isinstance(instance, WorkflowInstance) else instance
        deadline = None if timeout is None else time.monotonic() + _timeout_s(timeout)
        while True:
            # Wait in slices of at most a second so Ctrl-C is noticed.
            slice_s = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            try:
                out = self._native.wait_for_workflow_result(instance_id, int(slice_s * 1000))
                break
            except WaitTimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise WaitTimeoutError(
                        f"workflow instance {instance_id} did not finish within "
                        f"{_timeout_s(timeout)} s") from None
        result = service_pb2.WorkflowResult.FromString(out)
        if result.HasField("failure"):
            raise error_from_failure(result.failure, WorkflowFailedError)
        return converter.decode(result.result, result_type)

    def signal(self, instance: Union[str, WorkflowInstance], name: str, value: Any = None) -> None:
        """Sends signal ``name`` with ``value`` to the instance's active execution.

        Raises NotFoundError if the instance is unknown or finished.
        """
        instance_id = instance.instance_id if isinstance(instance, WorkflowInstance) else instance
        request = service_pb2.SignalWorkflowRequest(
            instance_id=instance_id, signal_name=name, input=converter.encode(value))
        self._native.signal_workflow(request.SerializeToString())

    def cancel(self, instance: Union[str, WorkflowInstance], reason: str = "") -> None:
        """Asks the instance's active execution to cancel.

        The workflow sees :class:`~durable.errors.CanceledError` at its
        pending awaits and decides how to finish. Raises NotFoundError if the
        instance is unknown or finished.
        """
        instance_id = instance.instance_id if isinstance(instance, WorkflowInstance) else instance
        self._native.cancel_workflow_instance(instance_id, reason)

    def state(self, instance: Union[str, WorkflowInstance]) -> WorkflowInstanceState:
        """The state of the instance's latest execution."""
        instance_id = instance.instance_id if isinstance(instance, WorkflowInstance) else instance
        proto = service_pb2.WorkflowInstanceState.FromString(
            self._native.get_workflow_instance_state(instance_id))
        result, failure = None, None
        if proto.HasField("result"):
            if proto.result.HasField("failure"):
                failure = error_from_failure(proto.result.failure, WorkflowFailedError)
            elif proto.result.HasField("result"):
                result = converter.decode(proto.result.result)
        last = None
        if proto.HasField("last_task_failure") and proto.last_task_failure.status_code:
            last = (native.status_name(proto.last_task_failure.status_code),
                    proto.last_task_failure.message)
        return WorkflowInstanceState(
            instance_id=proto.instance_id, execution_id=proto.execution_id,
            workflow_name=proto.workflow_name, queue=proto.queue,
            state=WorkflowState(proto.state), created_at=_time(proto.created_at_unix_us),
            finished_at=_time(proto.finished_at_unix_us), metadata=dict(proto.metadata),
            result=result, failure=failure, last_task_failure=last, proto=proto)

    def history(self, instance: Union[str, WorkflowInstance]) -> List[HistoryEvent]:
        """The history of the instance's latest execution, oldest event first."""
        instance_id = instance.instance_id if isinstance(instance, WorkflowInstance) else instance
        proto = history_pb2.History.FromString(self._native.get_workflow_history(instance_id))
        events = []
        for event in proto.events:
            field = event.WhichOneof("attributes")
            attributes = getattr(event, field) if field else None
            kind = attributes.DESCRIPTOR.name if attributes is not None else "?"
            events.append(HistoryEvent(event.id, _time(event.timestamp_unix_us), kind, attributes))
        return events

    def workers(self) -> List[WorkerInfo]:
        """The live workers of the backend, ordered by worker id.

        Every worker records itself (host, pid, queues, registered names) and
        renews its entry by heartbeat; it leaves the list when it stops, or
        once its TTL passed without a heartbeat (it crashed).
        """
        proto = service_pb2.WorkerList.FromString(self._native.list_workers())
        out = []
        for w in proto.workers:
            named = w.HasField("registered_names")
            out.append(WorkerInfo(
                worker_id=w.worker_id, host=w.host, pid=w.pid, queues=list(w.queues),
                workflow_names=list(w.registered_names.workflow_names) if named else None,
                activity_names=list(w.registered_names.activity_names) if named else None,
                started_at=_time(w.started_at_unix_us), last_seen=_time(w.last_seen_unix_us),
                ttl=datetime.timedelta(microseconds=w.ttl_us), proto=w))
        return out
