"""Workflows and activities used by the Python binding's tests (and quoted by docs/python.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from datetime import timedelta
from typing import List

import durable

# --- the classic example --------------------------------------------------------

# The C++ facade's history for the classic workflow
# (testing/scenarios/end_to_end_scenarios.cc, ClassicWorkflowReturnsSumOfActivities).
CLASSIC_HISTORY = [
    "WorkflowTaskStarted", "WorkflowExecutionStarted", "ActivityScheduled",
    "WorkflowTaskStarted", "ActivityCompleted", "ActivityScheduled",
    "WorkflowTaskStarted", "ActivityCompleted", "WorkflowExecutionFinished",
]


@durable.activity
def activity1(a: int, b: int) -> int:
    return a + b


@durable.activity
def activity2() -> int:
    return 12


@durable.workflow
async def workflow1(ctx: durable.WorkflowContext, input: str) -> int:
    r1 = await ctx.execute_activity(activity1, 35, 12)
    ctx.logger.info("activity1 returned %d", r1)
    r2 = await ctx.execute_activity(activity2)
    return r1 + r2


# --- timers ---------------------------------------------------------------------


@durable.workflow
async def sleeper(ctx: durable.WorkflowContext, seconds: float) -> str:
    start = ctx.now()
    await ctx.sleep(timedelta(seconds=seconds))
    elapsed = ctx.now() - start
    return "slept" if elapsed >= timedelta(seconds=seconds) else f"woke early: {elapsed}"


@durable.workflow
async def race_timers(ctx: durable.WorkflowContext) -> str:
    long_timer = ctx.timer(timedelta(hours=1), name="long")
    short_timer = ctx.timer(timedelta(milliseconds=100), name="short")
    first = await durable.wait_any(long_timer, short_timer)
    long_timer.cancel()
    return "short" if first is short_timer else "long"


# --- signals --------------------------------------------------------------------


@durable.workflow
async def wait_for_approval(ctx: durable.WorkflowContext) -> str:
    approvals = ctx.signal_channel("approve", str)
    approver = await approvals.receive()
    return f"approved by {approver}"


@durable.workflow
async def approval_or_timeout(ctx: durable.WorkflowContext, timeout_s: float) -> str:
    approvals = ctx.signal_channel("approve", str)
    timer = ctx.timer(timedelta(seconds=timeout_s))
    ready = await durable.wait_any(approvals, timer)
    if ready is approvals:
        timer.cancel()
        return f"approved by {approvals.receive_nowait()}"
    return "timed out"


@durable.workflow
async def collect_signals(ctx: durable.WorkflowContext, count: int) -> List[int]:
    numbers = ctx.signal_channel("number", int)
    return [await numbers.receive() for _ in range(count)]


@durable.workflow
async def signals_and_waits(ctx: durable.WorkflowContext, target: str) -> str:
    await ctx.signal_workflow(target, "approve", "a workflow")
    return "delivered"


@durable.workflow
async def catches_undelivered_signal(ctx: durable.WorkflowContext, target: str) -> str:
    try:
        await ctx.signal_workflow(target, "approve", "a workflow")
    except durable.InstanceNotFoundError as e:
        return f"{type(e).__name__} {e.type} non_retryable={e.non_retryable}"
    return "delivered"


@durable.workflow
async def signals_and_moves_on(ctx: durable.WorkflowContext, target: str) -> str:
    ctx.signal_workflow(target, "approve", "ignored")  # not awaited
    await ctx.sleep(0.3)
    return "moved on"


# --- cancellation ---------------------------------------------------------------

cleanups: List[str] = []
cleanups_lock = threading.Lock()


@durable.activity
def cleanup(what: str) -> str:
    with cleanups_lock:
        cleanups.append(what)
    return f"cleaned up {what}"


@durable.workflow
async def cancellable(ctx: durable.WorkflowContext, order: str) -> str:
    try:
        await ctx.sleep(timedelta(hours=1))
        return "finished"
    except durable.CanceledError:
        # Operations started after the cancellation run normally: clean up.
        await ctx.execute_activity(cleanup, order)
        raise


# --- side effects, gather, payloads ---------------------------------------------

side_effect_calls: List[int] = []


def _next_token() -> int:
    side_effect_calls.append(1)
    return 1000 + len(side_effect_calls)


@durable.workflow
async def with_side_effect(ctx: durable.WorkflowContext) -> int:
    token = ctx.side_effect(_next_token)
    await ctx.sleep(timedelta(milliseconds=10))
    return token


@durable.activity
def add(a: int, b: int) -> int:
    return a + b


@durable.workflow
async def fan_out(ctx: durable.WorkflowContext, n: int) -> int:
    results = await durable.gather(*[ctx.execute_activity(add, i, 1) for i in range(n)])
    return sum(results)


@durable.workflow
async def sub_workflow_tasks(ctx: durable.WorkflowContext) -> List[str]:
    async def step(name: str, delay_ms: int) -> str:
        await ctx.sleep(timedelta(milliseconds=delay_ms))
        return name

    slow = ctx.start(step("slow", 200))
    fast = ctx.start(step("fast", 10))
    first = await durable.wait_any(slow, fast)
    return [first.result(), await slow]


@dataclasses.dataclass
class Order:
    id: str
    quantity: int
    price: float


@dataclasses.dataclass
class Receipt:
    order_id: str
    total: float


@durable.activity
async def price_order(ctx: durable.ActivityContext, order: Order) -> Receipt:
    await asyncio.sleep(0.01)  # async activities run on an asyncio loop
    return Receipt(order_id=order.id, total=order.quantity * order.price)


@durable.workflow
async def checkout(ctx: durable.WorkflowContext, order: Order) -> Receipt:
    receipt = await ctx.execute_activity(price_order, order)
    assert isinstance(receipt, Receipt)
    return receipt


# --- errors and retries -----------------------------------------------------------


@durable.activity
def fails(message: str) -> int:
    raise ValueError(message)


@durable.workflow
async def catches_activity_error(ctx: durable.WorkflowContext) -> str:
    try:
        await ctx.execute_activity(fails, "bad input")
    except durable.ActivityError as e:
        return f"{e.type}: {e.message}"
    return "no error"


@durable.workflow
async def propagates_activity_error(ctx: durable.WorkflowContext) -> int:
    return await ctx.execute_activity(fails, "boom")


@durable.workflow
async def raises_application_error(ctx: durable.WorkflowContext) -> None:
    raise durable.ApplicationError("order 7 is invalid", type="InvalidOrder",
                                   non_retryable=True, details={"order": 7})


@durable.activity
def flaky(ctx: durable.ActivityContext, succeed_on_attempt: int) -> int:
    if ctx.attempt < succeed_on_attempt:
        raise ConnectionError(f"attempt {ctx.attempt} failed")
    return ctx.attempt


@durable.workflow
async def retries(ctx: durable.WorkflowContext) -> int:
    return await ctx.execute_activity(
        flaky, 2,
        retry_policy=durable.RetryPolicy(maximum_attempts=5,
                                         initial_interval=timedelta(milliseconds=10),
                                         backoff_coefficient=1.0))


@durable.workflow
async def uses_asyncio_sleep(ctx: durable.WorkflowContext) -> str:
    await asyncio.sleep(1)
    return "unreachable"


@durable.workflow
async def calls_unknown_activity(ctx: durable.WorkflowContext) -> int:
    return await ctx.execute_activity("NoSuchActivity", 1)


# Calls an activity in a way no retry can fix, under a policy that would try
# five times, and reports the failure it sees.
PERMANENT_ERROR_CALLS = {
    "unknown": ("NoSuchActivity", 1),
    "arity": ("add", 1),
    "undecodable": ("add", 1, "two"),
}


@durable.workflow
async def retries_permanent_error(ctx: durable.WorkflowContext, case: str) -> str:
    policy = durable.RetryPolicy(maximum_attempts=5, initial_interval=0.01)
    try:
        await ctx.execute_activity(*PERMANENT_ERROR_CALLS[case], retry_policy=policy)
    except durable.ActivityError as e:
        return f"{e.type} non_retryable={e.non_retryable}: {e.message}"
    return "succeeded"


WORKFLOWS = [workflow1, sleeper, race_timers, wait_for_approval, approval_or_timeout,
             collect_signals, signals_and_waits, catches_undelivered_signal,
             signals_and_moves_on, cancellable, with_side_effect, fan_out, sub_workflow_tasks,
             checkout, catches_activity_error, propagates_activity_error, raises_application_error,
             retries, uses_asyncio_sleep, calls_unknown_activity, retries_permanent_error]
ACTIVITIES = [activity1, activity2, cleanup, add, price_order, fails, flaky]


# --- replay ------------------------------------------------------------------------

starts: List[str] = []


@durable.workflow
async def counted(ctx: durable.WorkflowContext, key: str) -> int:
    starts.append(key)  # not deterministic on purpose: counts executions of the body
    a = await ctx.execute_activity(activity1, 1, 2)
    b = await ctx.execute_activity(activity2)
    return a + b


WORKFLOWS.append(counted)


# --- sub-workflows ------------------------------------------------------------------


@durable.workflow
async def greet(ctx: durable.WorkflowContext, name: str) -> str:
    await ctx.sleep(timedelta(milliseconds=10))
    return f"hello {name}"


@durable.workflow
async def parent(ctx: durable.WorkflowContext, name: str) -> str:
    greeting = await ctx.execute_sub_workflow(greet, name)
    return greeting.upper()


@durable.workflow
async def broken_sub_workflow(ctx: durable.WorkflowContext, item: str) -> int:
    raise durable.ApplicationError(f"{item} is out of stock", type="OutOfStock")


@durable.workflow
async def parent_of_broken_sub_workflow(ctx: durable.WorkflowContext) -> str:
    try:
        await ctx.execute_sub_workflow(broken_sub_workflow, "widget")
    except durable.SubWorkflowError as e:
        return f"{e.type}: {e.message}"
    return "no error"


@durable.workflow
async def sleepy_sub_workflow(ctx: durable.WorkflowContext, value: int) -> int:
    try:
        await ctx.sleep(timedelta(seconds=10))
        return 0
    except durable.CanceledError:
        return value  # the sub-workflow observes the cancellation and returns a value


@durable.workflow
async def parent_of_sleepers(ctx: durable.WorkflowContext) -> int:
    first = ctx.execute_sub_workflow(sleepy_sub_workflow, 1)
    second = ctx.execute_sub_workflow(sleepy_sub_workflow, 2)
    try:
        return sum(await durable.gather(first, second))
    except durable.CanceledError:
        # Canceling this workflow asked both sub-workflows to cancel: wait for them.
        return await first + await second


sub_workflow_runs: List[str] = []


@durable.workflow
async def counted_sub_workflow(ctx: durable.WorkflowContext, key: str) -> str:
    sub_workflow_runs.append(key)
    return key


@durable.workflow
async def cancels_sub_workflow_at_once(ctx: durable.WorkflowContext, key: str) -> str:
    handle = ctx.execute_sub_workflow(counted_sub_workflow, key, instance_id=key)
    handle.cancel()  # in the activation that started it: it never runs
    try:
        return await handle
    except durable.SubWorkflowCanceledError as e:
        return f"canceled {e.instance_id}"


@durable.workflow
async def starts_sub_workflow_with_id(ctx: durable.WorkflowContext, instance_id: str) -> str:
    try:
        return await ctx.execute_sub_workflow(wait_for_approval, instance_id=instance_id)
    except durable.SubWorkflowAlreadyExistsError as e:
        return e.type


# --- continue-as-new ----------------------------------------------------------------


@durable.workflow
async def countdown(ctx: durable.WorkflowContext, n: int, total: int) -> int:
    if n > 0:
        await ctx.sleep(timedelta(milliseconds=10))
        ctx.continue_as_new(n - 1, total + n)  # raises ContinueAsNewError
    return total


@durable.workflow
async def parent_of_countdown(ctx: durable.WorkflowContext) -> int:
    # The sub-workflow continues as new twice; the parent gets the final result.
    return await ctx.execute_sub_workflow(countdown, 2, 100, instance_id=f"{ctx.instance_id}-c")


# --- activity retries, heartbeats and timeouts ---------------------------------------


@durable.workflow
async def retried_activity(ctx: durable.WorkflowContext, non_retryable: bool) -> int:
    policy = durable.RetryPolicy(
        maximum_attempts=4,
        initial_interval=timedelta(milliseconds=10),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=1),
        non_retryable_error_types=["ConnectionError"] if non_retryable else [])
    return await ctx.execute_activity(flaky, 2, retry_policy=policy,
                                      start_to_close_timeout=timedelta(seconds=30),
                                      schedule_to_close_timeout=timedelta(minutes=1))


heartbeat_log: List[str] = []


@durable.activity
def stalls_then_heartbeats(ctx: durable.ActivityContext, key: str) -> int:
    if ctx.attempt == 0:
        time.sleep(0.6)  # no heartbeat for longer than the heartbeat timeout
        try:
            ctx.heartbeat("late")
        except durable.ActivityAttemptTimedOutError:
            heartbeat_log.append(f"{key}: attempt 0 timed out")
            raise
        return -1
    for step in range(40):  # 0.4 s, heartbeating every 10 ms
        ctx.heartbeat({"step": step})
        time.sleep(0.01)
    return ctx.attempt


@durable.workflow
async def heartbeat_retry(ctx: durable.WorkflowContext, key: str) -> int:
    return await ctx.execute_activity(
        stalls_then_heartbeats, key,
        heartbeat_timeout=timedelta(milliseconds=200),
        retry_policy=durable.RetryPolicy(maximum_attempts=3,
                                         initial_interval=timedelta(milliseconds=10)))


@durable.activity
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


@durable.workflow
async def timeout_types(ctx: durable.WorkflowContext) -> List[str]:
    seen = []
    for options in ({"heartbeat_timeout": 0.1}, {"start_to_close_timeout": 0.1},
                    {"schedule_to_close_timeout": 0.1}):
        try:
            await ctx.execute_activity(slow, 0.4, **options)
        except durable.ActivityTimeoutError as e:
            seen.append(e.type)
    return seen


# --- cancellation scopes --------------------------------------------------------------


@durable.workflow
async def scoped_cancel(ctx: durable.WorkflowContext) -> List[str]:
    child_ctx, cancel = ctx.with_cancel()
    long_timer = child_ctx.timer(timedelta(hours=1))
    await ctx.sleep(timedelta(milliseconds=10))
    cancel()
    seen = []
    try:
        await long_timer
    except durable.CanceledError:
        seen.append("timer canceled")
    try:
        await child_ctx.execute_activity(add, 1, 2)  # refused: no command
    except durable.CanceledError:
        seen.append("activity refused")
    seen.append(str(await ctx.execute_activity(add, 1, 2)))  # the parent is unaffected
    return seen


@durable.workflow
async def cleanup_on_disconnected(ctx: durable.WorkflowContext, order: str) -> str:
    cleanup_ctx = ctx.disconnected()
    cleanup_timer = cleanup_ctx.timer(timedelta(milliseconds=300))
    try:
        await ctx.sleep(timedelta(hours=1))
        return "finished"
    except durable.CanceledError:
        await cleanup_timer  # not canceled with the workflow
        return await cleanup_ctx.execute_activity(cleanup, order)


WORKFLOWS += [greet, parent, broken_sub_workflow, parent_of_broken_sub_workflow,
              sleepy_sub_workflow, parent_of_sleepers, counted_sub_workflow,
              cancels_sub_workflow_at_once, starts_sub_workflow_with_id, countdown,
              parent_of_countdown, retried_activity, heartbeat_retry, timeout_types,
              scoped_cancel, cleanup_on_disconnected]
ACTIVITIES += [stalls_then_heartbeats, slow]


# --- versioning: three releases of one workflow (not in WORKFLOWS) -------------------


@durable.activity
def audit(what: str) -> str:
    return f"audited {what}"


@durable.workflow(name="versioned")
async def versioned_v1(ctx: durable.WorkflowContext) -> str:
    approver = await ctx.signal_channel("approve", str).receive()
    return f"approved by {approver}"


@durable.workflow(name="versioned")
async def versioned_v2(ctx: durable.WorkflowContext) -> str:
    # Release 2 adds an audit step; instances started by release 1 skip it.
    note = "not audited"
    if ctx.patched("add-audit"):
        note = await ctx.execute_activity(audit, "request")
    approver = await ctx.signal_channel("approve", str).receive()
    return f"approved by {approver}, {note}"


@durable.workflow(name="versioned")
async def versioned_v3(ctx: durable.WorkflowContext) -> str:
    # Release 3, once no release-1 instance is left: the audit step always runs.
    ctx.deprecate_patch("add-audit")
    note = await ctx.execute_activity(audit, "request")
    approver = await ctx.signal_channel("approve", str).receive()
    return f"approved by {approver}, {note}"
