"""SignalChannel: the signals sent to a workflow instance under one name.

The Python side of the C++ facade's signal_channel.h (docs/signals.md). The
buffers live in the run, not in the channel, because signals arrive (and are
recorded in history) whether or not the code asked for a channel yet, and
continue-as-new hands the unreceived ones to the next execution; a channel
is only a named view on them.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, Deque, Generic, TypeVar

from durable import converter
from durable._future import Future
from durable._proto import common_pb2

if TYPE_CHECKING:
    from durable._workflow_run import _Run

T = TypeVar("T")


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
