"""Task: a coroutine of workflow code on the run's deterministic loop.

The Python side of the C++ facade's task.h and ``WorkflowContext::Go``. The
workflow function itself runs as the run's root task; ``ctx.start()`` and
``durable.gather()`` add more. A task is stepped only by the run
(_workflow_run.py), one at a time, and may await nothing but futures of its
own run: anything else (asyncio's primitives, a bare yield) would let code
run outside the order history replays, so it is refused at that ``await``
with NonDeterministicAwaitError. Cancellation that reaches a task which is
not blocked is held here until it resumes or first blocks, like asyncio's
``Task.cancel()``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Awaitable, List, Optional, TypeVar

from durable._cancellation import _reached_by_cancellation
from durable._continue_as_new import ContinueAsNewError
from durable._future import Future
from durable._timer import Timer
from durable.errors import CanceledError, NonDeterministicAwaitError

if TYPE_CHECKING:
    from durable._workflow_run import _Run

T = TypeVar("T")


class Task(Future[T]):
    """A coroutine running on the run's deterministic loop (``ctx.start``)."""

    def __init__(self, run: "_Run", coro: Awaitable[T], name: str) -> None:
        super().__init__(run)
        if not asyncio.iscoroutine(coro):
            raise TypeError(f"ctx.start() needs a coroutine, got {type(coro).__name__}")
        self.name = name
        self._coro = coro
        self._waiting_on: Optional[Future[Any]] = None
        self._started = False
        # The future whose resolution made the task runnable.
        self._resumed_from: Optional[Future[Any]] = None
        # Cancellation that reached the task while it was not waiting: raised
        # where it resumes (it had started) or at its first blocking await
        # (it had not), like asyncio's Task.cancel().
        self._cancel_on_resume: Optional[str] = None
        self._cancel_on_wait: Optional[str] = None
        # Timers and sub-workflows the task started on canceled scopes before it
        # saw the cancellation: canceled when it does.
        self._ops_before_cancel: List[Any] = []
        run._tasks.append(self)
        run._schedule(self, None)

    def _wakeup(self, future: Future[Any]) -> None:
        if self._waiting_on is future:
            self._waiting_on = None
            self._resumed_from = future
            self._run._schedule(self, None)

    def _cancel_wait(self, error: BaseException) -> bool:
        """Throws ``error`` into the task if it is blocked. True if it was."""
        if self._done or self._waiting_on is None:
            return False
        self._waiting_on._remove_callback(self._wakeup)
        self._waiting_on = None
        self._run._schedule(self, error)
        return True

    def _step(self, error: Optional[BaseException]) -> None:
        run = self._run
        if error is None and self._cancel_on_resume is not None:
            error = CanceledError(self._cancel_on_resume)
        self._cancel_on_resume = None
        self._started = True
        self._resumed_from = None
        try:
            if error is not None:
                yielded = self._coro.throw(error)
            else:
                yielded = self._coro.send(None)
        except StopIteration as stop:
            self._set_result(stop.value)
            return
        except (Exception, ContinueAsNewError) as e:  # noqa: BLE001 - user code raises anything
            self._set_exception(e)
            return
        if isinstance(yielded, Future) and yielded._run is run:
            if (self._cancel_on_wait is not None and not yielded._done
                    and _reached_by_cancellation(yielded)):
                message, self._cancel_on_wait = self._cancel_on_wait, None
                ops, self._ops_before_cancel = self._ops_before_cancel, []
                for op in ops:
                    if isinstance(op, Timer):
                        op.cancel(CanceledError(message))
                    else:
                        op.cancel()
                run._schedule(self, CanceledError(message))
                return
            self._waiting_on = yielded
            yielded._add_callback(self._wakeup)
            return
        if isinstance(yielded, Future):
            problem = "a future of another workflow run"
        elif yielded is None:
            problem = ("a bare yield (asyncio.sleep(0) or another asyncio primitive)")
        else:
            problem = f"{type(yielded).__module__}.{type(yielded).__qualname__}"
        run._schedule(self, NonDeterministicAwaitError(
            f"workflow {run.workflow_name!r} awaited {problem}, which is not a durable "
            "operation. Workflow code runs on durable's deterministic loop, not asyncio: "
            "use ctx.sleep() / ctx.timer() instead of asyncio.sleep(), and run I/O in "
            "activities (ctx.execute_activity)."))

    def _close(self) -> None:
        try:
            self._coro.close()
        except BaseException:  # noqa: BLE001 - dropping an evicted run
            pass
