"""Typed exceptions: status codes and failure round trips."""

from __future__ import annotations

import durable
from durable import errors
from durable._native import native


def test_every_status_code_has_a_class_named_like_the_c_abi():
    for name, code in native.STATUS_CODES.items():
        if code == 0:
            continue
        error = errors.error_for_status(code, "m")
        assert isinstance(error, durable.DurableError)
        assert error.code == code
        assert native.status_name(code) == name
        assert error.code_name.replace("CANCELED", "CANCELLED") in (
            name, name.replace("CANCELED", "CANCELLED"))
    assert isinstance(errors.error_for_status(3, "x"), ValueError)
    assert isinstance(errors.error_for_status(4, "x"), TimeoutError)
    assert str(errors.error_for_status(5, "gone")) == "NOT_FOUND: gone"


def test_exception_to_failure_keeps_type_message_and_cause():
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as e:
        failure = errors.failure_from_exception(e)
    assert failure.type == "ValueError"
    assert failure.message == "outer"
    assert failure.cause.type == "KeyError"
    error = errors.error_from_failure(failure, durable.ActivityError)
    assert isinstance(error, durable.ActivityError)
    assert (error.type, error.message) == ("ValueError", "outer")
    assert isinstance(error.cause, durable.FailureError)
    assert error.cause.type == "KeyError"
    assert error.__cause__ is error.cause


def test_application_error_round_trip():
    failure = errors.failure_from_exception(
        durable.ApplicationError("no", type="Declined", non_retryable=True, details=[1, 2]))
    assert (failure.type, failure.message, failure.non_retryable) == ("Declined", "no", True)
    error = errors.error_from_failure(failure, durable.WorkflowFailedError)
    assert error.details == [1, 2]
    assert str(error) == "Declined: no"


def test_known_failure_types_get_subclasses():
    make = lambda t: errors.failure_from_exception(durable.ApplicationError("m", type=t))
    assert isinstance(errors.error_from_failure(make("WorkflowNotRegistered"),
                                                durable.WorkflowFailedError),
                      durable.WorkflowNotRegisteredError)
    assert isinstance(errors.error_from_failure(make("CANCELLED"), durable.WorkflowFailedError),
                      durable.WorkflowCanceledError)
    assert isinstance(errors.error_from_failure(make("ActivityNotRegistered"),
                                                durable.ActivityError),
                      durable.ActivityNotRegisteredError)
