"""Typed exceptions of the durable package.

Two families:

* :class:`DurableError` subclasses mirror the ``DURABLE_*`` status codes of the
  C ABI (``durable.h``): a malformed URI raises :class:`InvalidArgumentError`,
  waiting too long for a result raises :class:`WaitTimeoutError`, an unknown
  instance :class:`NotFoundError`, and so on. Each has ``code`` (the numeric
  status) and ``code_name`` (e.g. ``"INVALID_ARGUMENT"``).

* :class:`FailureError` subclasses carry a structured ``durable.v1.Failure``
  that crossed a boundary: ``type`` (the failing exception's class name, e.g.
  ``"ValueError"``, or a kind such as ``"ActivityNotRegistered"``), ``message``,
  ``details``, ``non_retryable`` and ``cause`` (another FailureError or None).
  A workflow sees an activity's failure as :class:`ActivityError`; a client
  sees a workflow's failure as :class:`WorkflowFailedError`, and a parent
  workflow a sub-workflow's failure as :class:`SubWorkflowError`. Failures cross
  languages unchanged: a C++ activity returning ``absl::InvalidArgumentError``
  reaches a Python workflow as type ``"INVALID_ARGUMENT"``.

User code raises :class:`ApplicationError` to choose the failure type, mark it
non-retryable or attach details; any other exception becomes a failure whose
type is the exception's class name.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

from durable._proto import common_pb2

__all__ = [
    "DurableError",
    "CanceledStatusError",
    "UnknownError",
    "InvalidArgumentError",
    "WaitTimeoutError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "NonDeterminismError",
    "ShutdownError",
    "FailureError",
    "ApplicationError",
    "ActivityError",
    "ActivityNotRegisteredError",
    "ActivityTimeoutError",
    "ActivityAttemptTimedOutError",
    "SubWorkflowError",
    "SubWorkflowCanceledError",
    "SubWorkflowAlreadyExistsError",
    "InstanceNotFoundError",
    "WorkflowFailedError",
    "WorkflowNotRegisteredError",
    "WorkflowCanceledError",
    "HistoryLimitExceededError",
    "CanceledError",
    "NonDeterministicAwaitError",
    "PayloadError",
]


class DurableError(Exception):
    """Base class of every exception the durable package raises.

    Attributes:
        code: the ``DURABLE_*`` status code (``durable.h``), or ``None`` for
            errors that did not come from the C ABI.
        code_name: the status code's name, e.g. ``"NOT_FOUND"``.
        message: what was wrong.
    """

    code: Optional[int] = None
    code_name: Optional[str] = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        if self.code_name:
            return f"{self.code_name}: {self.message}"
        return self.message


def _status_class(name: str, code: int, code_name: str, doc: str,
                  bases: tuple = ()) -> Type[DurableError]:
    return type(name, (DurableError,) + bases, {
        "__doc__": doc,
        "code": code,
        "code_name": code_name,
        "__module__": __name__,
    })


CanceledStatusError = _status_class(
    "CanceledStatusError", 1, "CANCELED", "DURABLE_CANCELED: an operation was canceled.")
UnknownError = _status_class("UnknownError", 2, "UNKNOWN", "DURABLE_UNKNOWN.")
InvalidArgumentError = _status_class(
    "InvalidArgumentError", 3, "INVALID_ARGUMENT",
    "DURABLE_INVALID_ARGUMENT: a malformed URI, request or option.", (ValueError,))
WaitTimeoutError = _status_class(
    "WaitTimeoutError", 4, "TIMEOUT",
    "DURABLE_TIMEOUT: a wait ran out of time (the workflow is still running).",
    (TimeoutError,))
NotFoundError = _status_class(
    "NotFoundError", 5, "NOT_FOUND",
    "DURABLE_NOT_FOUND: unknown workflow instance (or it already finished).", (LookupError,))
AlreadyExistsError = _status_class(
    "AlreadyExistsError", 6, "ALREADY_EXISTS",
    "DURABLE_ALREADY_EXISTS: an active instance already has this id.")
PermissionDeniedError = _status_class(
    "PermissionDeniedError", 7, "PERMISSION_DENIED", "DURABLE_PERMISSION_DENIED.")
ResourceExhaustedError = _status_class(
    "ResourceExhaustedError", 8, "RESOURCE_EXHAUSTED", "DURABLE_RESOURCE_EXHAUSTED.")
FailedPreconditionError = _status_class(
    "FailedPreconditionError", 9, "FAILED_PRECONDITION",
    "DURABLE_FAILED_PRECONDITION: the call does not fit the object's state "
    "(e.g. a closed handle).")
AbortedError = _status_class(
    "AbortedError", 10, "ABORTED", "DURABLE_ABORTED: a task lease was lost to another worker.")
OutOfRangeError = _status_class("OutOfRangeError", 11, "OUT_OF_RANGE", "DURABLE_OUT_OF_RANGE.")
UnimplementedError = _status_class(
    "UnimplementedError", 12, "UNIMPLEMENTED", "DURABLE_UNIMPLEMENTED.", (NotImplementedError,))
InternalError = _status_class("InternalError", 13, "INTERNAL", "DURABLE_INTERNAL.")
UnavailableError = _status_class(
    "UnavailableError", 14, "UNAVAILABLE",
    "DURABLE_UNAVAILABLE: the backend cannot be reached or is busy.")
DataLossError = _status_class(
    "DataLossError", 15, "DATA_LOSS", "DURABLE_DATA_LOSS: a stored row cannot be decoded.")
NonDeterminismError = _status_class(
    "NonDeterminismError", 100, "NON_DETERMINISM",
    "DURABLE_NON_DETERMINISM: replayed workflow code issued commands that "
    "differ from its history.")
ShutdownError = _status_class(
    "ShutdownError", 101, "SHUTDOWN", "DURABLE_SHUTDOWN: the worker is shutting down.")

_BY_CODE: Dict[int, Type[DurableError]] = {
    cls.code: cls  # type: ignore[misc]
    for cls in (CanceledStatusError, UnknownError, InvalidArgumentError, WaitTimeoutError,
                NotFoundError, AlreadyExistsError, PermissionDeniedError,
                ResourceExhaustedError, FailedPreconditionError, AbortedError,
                OutOfRangeError, UnimplementedError, InternalError, UnavailableError,
                DataLossError, NonDeterminismError, ShutdownError)
}


def error_for_status(code: int, message: str) -> DurableError:
    """The exception for a non-OK ``DURABLE_*`` status (used by the native module)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        error = DurableError(message)
        error.code = code
        error.code_name = f"STATUS_{code}"
        return error
    return cls(message)


class ActivityAttemptTimedOutError(NotFoundError):  # type: ignore[misc,valid-type]
    """Raised by :meth:`ActivityContext.heartbeat` once the attempt timed out.

    The engine already failed the attempt (with its heartbeat, start-to-close
    or schedule-to-close timeout) and retries it per the retry policy, so
    whatever this attempt still produces is discarded: let the exception end
    the activity. A ``DURABLE_NOT_FOUND`` status from
    ``durable_worker_record_activity_heartbeat``.
    """


class PayloadError(DurableError, TypeError):
    """A value could not be encoded to or decoded from a payload."""


class NonDeterministicAwaitError(DurableError, RuntimeError):
    """Workflow code awaited something that is not a durable operation.

    Workflows run on durable's own deterministic loop, never on asyncio:
    ``await asyncio.sleep(1)`` inside a workflow raises this error at the
    ``await``. Use ``await ctx.sleep(...)`` (a durable timer) instead, and call
    I/O from activities.
    """


# --- structured failures -------------------------------------------------------


class FailureError(DurableError):
    """An error carrying a structured ``durable.v1.Failure``.

    Attributes:
        type: machine-readable kind: the failing exception's class name
            (``"ValueError"``), an ``ApplicationError`` type, or a kind the
            engine produces (``"ActivityNotRegistered"``, ``"panic"``, ...).
        message: human-readable explanation.
        details: decoded details (JSON), or None.
        non_retryable: retry policies do not retry this failure.
        cause: the failure that caused this one, or None.
    """

    def __init__(self, message: str = "", *, type: str = "", details: Any = None,
                 non_retryable: bool = False,
                 cause: Optional["FailureError"] = None) -> None:
        super().__init__(message)
        self.type = type or self.__class__.__name__
        self.details = details
        self.non_retryable = non_retryable
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.type else self.message

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(type={self.type!r}, message={self.message!r})"


class ApplicationError(FailureError):
    """Raise from activities or workflows to control the failure sent on.

    ``raise ApplicationError("card declined", type="PaymentDeclined",
    non_retryable=True)`` fails the activity without retries; the workflow
    sees an :class:`ActivityError` with ``type == "PaymentDeclined"``.
    """


class ActivityError(FailureError):
    """Raised in a workflow when an activity failed (after its retries).

    ``type`` and ``message`` are those of the activity's failure: an activity
    raising ``ValueError("bad input")`` gives ``type == "ValueError"`` and
    ``message == "bad input"``.
    """


class ActivityNotRegisteredError(ActivityError):
    """No worker polling the activity's queue has an activity of that name."""


class ActivityTimeoutError(ActivityError):
    """The activity's last attempt exceeded a timeout.

    ``type`` says which: ``"StartToCloseTimeout"`` (one attempt ran too long),
    ``"ScheduleToCloseTimeout"`` (all attempts together; never retried) or
    ``"HeartbeatTimeout"`` (no heartbeat within the heartbeat timeout).
    """


class SubWorkflowError(FailureError):
    """Raised in a parent workflow when a sub-workflow failed.

    ``type``, ``message``, ``details`` and ``cause`` are those of the
    sub-workflow's failure (an activity error it did not catch keeps its
    type); ``instance_id`` names the sub-workflow's instance.
    """

    instance_id: str = ""


class SubWorkflowCanceledError(SubWorkflowError):
    """The sub-workflow was canceled (type ``"CANCELLED"``): it ended by re-raising its
    cancellation, or it was canceled in the activation that started it and
    never ran."""


class SubWorkflowAlreadyExistsError(SubWorkflowError):
    """The sub-workflow could not start: an active instance has its id (type
    ``"InstanceAlreadyExists"``). A finished instance's id may be reused."""


class InstanceNotFoundError(FailureError):
    """Raised where a workflow awaits ``ctx.signal_workflow(...)`` when the
    signal was not delivered: the target instance does not exist or its
    latest execution has finished (type ``"InstanceNotFound"``, non-retryable).
    Uncaught, it fails the sending workflow with that type."""


class WorkflowFailedError(FailureError):
    """Raised by ``Client.result`` when the workflow ended with a failure."""


class WorkflowNotRegisteredError(WorkflowFailedError):
    """The worker that picked up the instance has no workflow of that name."""


class WorkflowCanceledError(WorkflowFailedError):
    """The workflow ended because it was canceled (failure type ``"CANCELLED"``)."""


class HistoryLimitExceededError(WorkflowFailedError):
    """The workflow's history would have grown past the worker's
    ``max_history_length`` (type ``"HistoryLimitExceeded"``)."""


class CanceledError(FailureError):
    """The workflow was asked to cancel (``Client.cancel``).

    Inside a workflow it is raised once into every coroutine of the run, like
    asyncio's ``Task.cancel()``: at the await it is suspended on (a timer, an
    activity, a sub-workflow, a signal, another task), where it resumes if it was
    about to, or at its first blocking await if it had not started;
    coroutines waiting on operations of a disconnected context are spared.
    Pending timers are canceled and sub-workflows asked to cancel. The workflow
    may catch it, run cleanup steps (activities and timers started afterwards
    on the workflow's context work normally) and return or re-raise. A
    context from ``ctx.with_cancel()`` raises it for its own operations when
    canceled. Uncaught, the workflow fails with type ``"CANCELLED"``,
    which the client sees as :class:`WorkflowCanceledError`.
    """

    def __init__(self, message: str = "canceled", **kwargs: Any) -> None:
        kwargs.setdefault("type", CANCELED_FAILURE_TYPE)
        super().__init__(message, **kwargs)


#: Failure type of cancellation, shared with the C++ facade (absl's
#: ``CANCELLED`` code name).
CANCELED_FAILURE_TYPE = "CANCELLED"
ACTIVITY_NOT_REGISTERED = "ActivityNotRegistered"
WORKFLOW_NOT_REGISTERED = "WorkflowNotRegistered"
INVALID_ARGUMENT_FAILURE = "InvalidArgument"
INSTANCE_ALREADY_EXISTS = "InstanceAlreadyExists"
INSTANCE_NOT_FOUND = "InstanceNotFound"
HISTORY_LIMIT_EXCEEDED = "HistoryLimitExceeded"
ACTIVITY_TIMEOUT_TYPES = frozenset({"StartToCloseTimeout", "ScheduleToCloseTimeout",
                                    "HeartbeatTimeout"})


def _failure_class(base: Type[FailureError], failure_type: str) -> Type[FailureError]:
    if base is ActivityError and failure_type == ACTIVITY_NOT_REGISTERED:
        return ActivityNotRegisteredError
    if base is ActivityError and failure_type in ACTIVITY_TIMEOUT_TYPES:
        return ActivityTimeoutError
    if base is SubWorkflowError and failure_type == CANCELED_FAILURE_TYPE:
        return SubWorkflowCanceledError
    if base is SubWorkflowError and failure_type == INSTANCE_ALREADY_EXISTS:
        return SubWorkflowAlreadyExistsError
    if base is FailureError and failure_type == INSTANCE_NOT_FOUND:
        return InstanceNotFoundError
    if base is WorkflowFailedError and failure_type == HISTORY_LIMIT_EXCEEDED:
        return HistoryLimitExceededError
    if base is WorkflowFailedError and failure_type == WORKFLOW_NOT_REGISTERED:
        return WorkflowNotRegisteredError
    if base is WorkflowFailedError and failure_type == CANCELED_FAILURE_TYPE:
        return WorkflowCanceledError
    return base


def error_from_failure(failure: common_pb2.Failure,
                       base: Type[FailureError] = FailureError) -> FailureError:
    """Builds the exception for a ``durable.v1.Failure`` (recursively for causes)."""
    from durable import converter  # local: converter imports this module

    cause = error_from_failure(failure.cause) if failure.HasField("cause") else None
    details = None
    if failure.HasField("details"):
        try:
            details = converter.decode(failure.details)
        except Exception:  # undecodable details must not hide the failure
            details = failure.details.data
    cls = _failure_class(base, failure.type)
    return cls(failure.message, type=failure.type, details=details,
               non_retryable=failure.non_retryable, cause=cause)


def failure_from_exception(error: BaseException,
                           _seen: Optional[set] = None) -> common_pb2.Failure:
    """Converts an exception raised by user code into a ``durable.v1.Failure``.

    FailureError keeps its type, message, details, non_retryable flag and
    cause; any other exception gives ``type = class name`` and ``message =
    str(error)``, with ``__cause__`` (``raise ... from ...``) as the cause.

    Never raises: text that is not valid UTF-8 (a lone surrogate, as in a
    non-UTF-8 file name decoded by ``os.fsdecode``) is escaped, and an
    exception whose ``str()`` raises gets a message saying so.
    """
    from durable import converter

    failure = common_pb2.Failure()
    if isinstance(error, FailureError):
        failure.type = _text(error.type)
        failure.message = _text(error.message)
        failure.non_retryable = error.non_retryable
        if error.details is not None:
            try:
                failure.details.CopyFrom(converter.encode(error.details))
            except Exception as e:  # noqa: BLE001 - report the failure without its details
                failure.message += f" (its details cannot be encoded: {_describe(e)})"
        cause: Optional[BaseException] = error.cause or error.__cause__
    else:
        failure.type = _text(type(error).__name__)
        failure.message = _describe(error)
        cause = error.__cause__
    seen = (_seen or set()) | {id(error)}
    if cause is not None and id(cause) not in seen:  # a cycle of causes ends here
        failure.cause.CopyFrom(failure_from_exception(cause, seen))
    return failure


def _text(value: Any) -> str:
    """``value`` as text that protobuf (and the C ABI) accept: valid UTF-8."""
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        # Lone surrogates: the ones surrogateescape made of undecodable bytes
        # become \xNN again, any other \uNNNN.
        return "".join(_escape_surrogate(c) for c in text)


def _escape_surrogate(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return char


def _describe(error: BaseException) -> str:
    try:
        return _text(str(error))
    except Exception as e:  # noqa: BLE001 - a __str__ may raise anything
        return f"<{type(error).__name__}: str() raised {type(e).__name__}>"
