"""What is in force on a thread while workflow code runs on the deterministic loop.

Workflows never run on asyncio: the run (_workflow_run.py) steps its tasks
itself. While it does, this module knows which run is executing, for the
helpers that take no context (``durable.gather()``, ``durable.wait_any()``),
and installs an asyncio loop that refuses every call, so that
``asyncio.sleep()``, ``asyncio.create_task()`` and the like fail at once with
NonDeterministicAwaitError instead of escaping the order history replays.
Both are per thread: workers run the activations of different runs on
several threads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, Any, Iterator

from durable.errors import NonDeterministicAwaitError

if TYPE_CHECKING:
    from durable._workflow_run import _Run


class _ForbiddenLoop(asyncio.AbstractEventLoop):
    """Installed as the running asyncio loop while workflow code runs.

    ``asyncio.sleep()``, ``asyncio.create_task()`` and friends ask the running
    loop for futures and timers; this loop answers with a clear error instead of
    letting workflow code escape the deterministic loop.
    """

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__"):
            return object.__getattribute__(self, name)

        def forbidden(*args: Any, **kwargs: Any) -> Any:
            for arg in args:  # avoid "coroutine was never awaited" noise
                if asyncio.iscoroutine(arg):
                    arg.close()
            raise NonDeterministicAwaitError(
                f"workflow code used asyncio (event loop method {name}()), e.g. "
                "asyncio.sleep() or asyncio.create_task(). Workflows run on durable's "
                "deterministic loop: use ctx.sleep()/ctx.timer(), ctx.start(), "
                "durable.gather() and durable.wait_any(), and do I/O in activities.")

        return forbidden


_FORBIDDEN_LOOP = _ForbiddenLoop()


_running = threading.local()


def current_run() -> "_Run":
    """The run whose workflow code executes on this thread."""
    run = getattr(_running, "run", None)
    if run is None:
        raise RuntimeError("durable.gather()/wait_any() may only be used inside workflow code")
    return run


@contextlib.contextmanager
def running(run: "_Run") -> Iterator[None]:
    """Makes ``run`` the current run and asyncio unusable, for one stretch of workflow code."""
    _running.run = run
    previous_loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(_FORBIDDEN_LOOP)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(previous_loop)
        _running.run = None
