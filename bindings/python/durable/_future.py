"""Future: the eventual outcome of a durable operation of one workflow run.

The Python side of the C++ facade's future.h. Every durable operation
(activity, timer, sub-workflow, signal to another instance) returns one, and
the deterministic loop (_workflow_run.py) blocks a task on the future it
awaits. Futures never wake their waiters directly: callbacks only queue the
waiting tasks on the run, which resumes them in order, so the interleaving of
workflow code depends on history alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generator, Generic, List, Optional, TypeVar

if TYPE_CHECKING:
    from durable._cancellation import _Scope
    from durable._workflow_run import _Run

T = TypeVar("T")


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
