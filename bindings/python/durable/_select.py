"""Waiting on several operations at once: gather() and wait_any().

The Python side of the C++ facade's select.h: :func:`wait_any` is
go-workflows' ``Select`` (the first of several futures or signal channels to
become ready), :func:`gather` awaits them all like ``asyncio.gather``. Both
are plain functions without a context, so they find their run through the
loop (_loop.py); their result futures are resolved by the futures they wait
on, in argument order, so the winner does not depend on timing.
"""

from __future__ import annotations

from typing import Any, Awaitable, List, Union

from durable._future import Future
from durable._loop import current_run
from durable._signal_channel import SignalChannel
from durable._task import Task


def gather(*aws: Awaitable[Any], return_exceptions: bool = False) -> Future[List[Any]]:
    """Awaits every awaitable (futures or coroutines) and returns their results in order.

    Coroutines are started as tasks, in argument order. The first failure (in
    completion order) fails the gather unless ``return_exceptions`` is true,
    in which case exceptions are returned in place of results.
    """
    run = current_run()
    futures: List[Future[Any]] = [
        a if isinstance(a, Future) else Task(run, a, "gather") for a in aws]
    result: Future[List[Any]] = Future(run)
    remaining = [len(futures)]

    def on_done(f: Future[Any]) -> None:
        if result.done():
            return
        if f._exception is not None and not return_exceptions:
            result._set_exception(f._exception)
            return
        remaining[0] -= 1
        if remaining[0] == 0:
            result._set_result([x._exception if x._exception is not None else x._value
                                for x in futures])

    if not futures:
        result._set_result([])
    for f in futures:
        f._add_callback(on_done)
    return result


def wait_any(*waitables: Union[Future[Any], SignalChannel[Any]]) -> Future[Any]:
    """Waits until one of ``waitables`` is ready and returns it (go-workflows' Select).

    Futures are ready once resolved; a signal channel is ready when a signal
    is buffered (receive it with ``receive_nowait()``; waiting does not consume
    it). When several are ready, the first in argument order wins.
    """
    if not waitables:
        raise ValueError("wait_any() needs at least one future or signal channel")
    run = current_run()
    readiness: List[Future[Any]] = [
        w._ready_future() if isinstance(w, SignalChannel) else w for w in waitables]
    result: Future[Any] = Future(run)

    def on_ready(_: Future[Any]) -> None:
        if result.done():
            return
        for waitable, ready in zip(waitables, readiness):
            if ready.done():
                result._set_result(waitable)
                break
        for ready in readiness:
            ready._remove_callback(on_ready)

    for ready in readiness:
        ready._add_callback(on_ready)
        if result.done():
            break
    return result
