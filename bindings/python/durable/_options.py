"""Options of workflow operations: the retry policy and durations.

The Python side of the C++ facade's options.h. Durations are accepted as
``datetime.timedelta`` or seconds and turned into the protocol's whole
microseconds here, in one place, so every operation refuses a negative or
mistyped duration with the same message.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Optional, Sequence, Union

from durable._proto import common_pb2

Duration = Union[datetime.timedelta, float, int]


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
