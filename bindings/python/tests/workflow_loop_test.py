"""The deterministic loop, driven with hand-made activations (no backend)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import durable
from durable._proto import common_pb2, protocol_pb2
from durable._workflow import WorkflowExecutor
from durable.converter import encode
from durable.registry import WorkflowDefinition


@durable.workflow
async def two_steps(ctx: durable.WorkflowContext, x: int) -> int:
    a, b = await durable.gather(ctx.execute_activity("A", x), ctx.execute_activity("B", x))
    await ctx.sleep(timedelta(seconds=5))
    token = ctx.side_effect(lambda: 7)
    return a + b + token


@durable.workflow
async def uses_asyncio(ctx: durable.WorkflowContext) -> None:
    await asyncio.sleep(0)


def executor(*workflows):
    return WorkflowExecutor({d.name: d for d in map(WorkflowDefinition.of, workflows)})


def activation(*jobs, replaying=False):
    return protocol_pb2.WorkflowActivation(run_id="r", instance_id="i", is_replaying=replaying,
                                           workflow_time_unix_us=1_000_000, jobs=list(jobs))


def start(name, *args):
    return protocol_pb2.WorkflowActivationJob(start_workflow=protocol_pb2.StartWorkflow(
        workflow_name=name, arguments=[encode(a) for a in args], randomness_seed=1))


def resolve(seq, value):
    return protocol_pb2.WorkflowActivationJob(
        resolve_activity=protocol_pb2.ResolveActivity(seq=seq, completed=encode(value)))


def commands(completion):
    assert completion.HasField("successful"), completion
    return [c.WhichOneof("variant") for c in completion.successful.commands]


def test_commands_are_issued_in_order_with_per_kind_sequence_numbers():
    ex = executor(two_steps)
    c1 = ex.process(activation(start("two_steps", 1)))
    assert commands(c1) == ["schedule_activity", "schedule_activity"]
    assert [c.schedule_activity.seq for c in c1.successful.commands] == [1, 2]
    c2 = ex.process(activation(resolve(2, 20), resolve(1, 10)))
    assert commands(c2) == ["start_timer"]
    assert c2.successful.commands[0].start_timer.duration_us == 5_000_000
    c3 = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        fire_timer=protocol_pb2.FireTimer(seq=1))))
    assert commands(c3) == ["record_side_effect", "complete_workflow"]
    assert c3.successful.commands[1].complete_workflow.result.data == b"37"


def test_full_replay_in_one_activation_with_recorded_side_effect():
    # What the core sends for an uncached run: side effects first, then
    # everything from history; the side effect function must not run.
    ex = executor(two_steps)
    recorded = protocol_pb2.WorkflowActivationJob(resolve_side_effect=protocol_pb2.ResolveSideEffect(
        seq=1, result=encode(100)))
    c = ex.process(activation(recorded, start("two_steps", 1), resolve(1, 10), resolve(2, 20),
                              protocol_pb2.WorkflowActivationJob(
                                  fire_timer=protocol_pb2.FireTimer(seq=1)), replaying=True))
    assert commands(c) == ["schedule_activity", "schedule_activity", "start_timer",
                           "record_side_effect", "complete_workflow"]
    assert c.successful.commands[-1].complete_workflow.result.data == b"130"


def test_cancel_cancels_pending_timers_and_raises_in_the_workflow():
    ex = executor(two_steps)
    ex.process(activation(start("two_steps", 1)))
    ex.process(activation(resolve(1, 1), resolve(2, 2)))
    c = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        cancel_workflow=protocol_pb2.CancelWorkflow(reason="stop"))))
    assert commands(c) == ["cancel_timer", "fail_workflow"]
    failure = c.successful.commands[1].fail_workflow.failure
    assert failure.type == "CANCELLED" and "stop" in failure.message


def test_asyncio_awaits_fail_the_workflow_with_a_clear_error():
    c = executor(uses_asyncio).process(activation(start("uses_asyncio")))
    assert commands(c) == ["fail_workflow"]
    failure = c.successful.commands[0].fail_workflow.failure
    assert failure.type == "NonDeterministicAwaitError"
    assert "asyncio" in failure.message


def test_eviction_drops_the_run_and_an_uncached_run_needs_a_start():
    ex = executor(two_steps)
    ex.process(activation(start("two_steps", 1)))
    assert ex.cached_runs() == 1
    evicted = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        remove_from_cache=protocol_pb2.RemoveFromCache(reason="cache full"))))
    assert commands(evicted) == [] and ex.cached_runs() == 0
    c = ex.process(activation(resolve(1, 1)))
    assert c.HasField("failed")
    assert "not cached" in c.failed.message


def test_unknown_seq_fails_the_activation_not_the_workflow():
    ex = executor(two_steps)
    ex.process(activation(start("two_steps", 1)))
    c = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        resolve_activity=protocol_pb2.ResolveActivity(
            seq=9, failed=common_pb2.Failure(type="X")))))
    assert c.HasField("failed")
    assert "seq 9" in c.failed.message
