"""Continuing as new loses no signal: the signals an execution had received
but its code had not, and those still waiting in its inbox, reach the next
execution in the order they were sent (with the executor cache on and off)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import List, Optional

import pytest

import durable

TICKS = 10


@durable.workflow
async def receive_ticks(ctx: durable.WorkflowContext, seen: List[int], received: int) -> List[int]:
    if received == TICKS:
        return seen
    tick = await ctx.signal_channel("tick").receive()
    seen = seen + [tick]
    # Works for a while: later ticks arrive during the timer (delivered to
    # this execution's code, not received) and during the slow task below
    # (still in the inbox when the execution continues as new).
    await ctx.sleep(timedelta(milliseconds=60))
    if not ctx.is_replaying:
        time.sleep(0.04)
    ctx.continue_as_new(seen, received + 1)


@pytest.mark.parametrize("cache_size", [None, 0], ids=["cache_default", "cache_0"])
def test_signals_reach_the_next_execution_in_order(tmp_path, cache_size: Optional[int]) -> None:
    backend = durable.open(f"sqlite://{tmp_path}/durable.db")
    worker = durable.Worker(backend, workflows=[receive_ticks], max_cached_workflows=cache_size)
    worker.start()
    client = durable.Client(backend)
    try:
        instance = client.create(receive_ticks, [], 0, instance_id="ticks")
        for tick in range(TICKS):
            client.signal(instance, "tick", tick)
            time.sleep(0.03)
        assert client.result(instance, timeout=30) == list(range(TICKS))
    finally:
        assert worker.stop(timeout=10)
        client.close()
        backend.close()
