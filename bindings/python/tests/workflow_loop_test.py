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
    return protocol_pb2.WorkflowActivation(execution_id="r", instance_id="i", is_replaying=replaying,
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


# --- sub-workflows, continue-as-new, patches ------------------------------------------


@durable.workflow
async def with_sub_workflows(ctx: durable.WorkflowContext) -> int:
    dropped = ctx.execute_sub_workflow("SubWorkflow", 1)
    dropped.cancel()
    kept = ctx.execute_sub_workflow("SubWorkflow", 2, instance_id="kept")
    try:
        await dropped
    except durable.SubWorkflowCanceledError:
        pass
    return await kept


def resolve_sub_workflow(seq, value=None, failure=None):
    job = protocol_pb2.ResolveSubWorkflow(seq=seq)
    if failure is not None:
        job.failed.CopyFrom(failure)
    else:
        job.completed.CopyFrom(encode(value))
    return protocol_pb2.WorkflowActivationJob(resolve_sub_workflow=job)


def test_sub_workflow_started_and_canceled_in_one_activation_resolves_at_once():
    ex = executor(with_sub_workflows)
    c1 = ex.process(activation(start("with_sub_workflows")))
    assert commands(c1) == ["start_sub_workflow", "cancel_sub_workflow",
                            "start_sub_workflow"]
    assert [c1.successful.commands[i].start_sub_workflow.seq for i in (0, 2)] == [1, 2]
    assert c1.successful.commands[2].start_sub_workflow.instance_id == "kept"
    c2 = ex.process(activation(resolve_sub_workflow(2, 42)))
    assert commands(c2) == ["complete_workflow"]
    assert c2.successful.commands[0].complete_workflow.result.data == b"42"


def test_sub_workflow_failure_is_typed_and_names_the_sub_workflow():
    @durable.workflow(name="catches_sub_workflow")
    async def catches_sub_workflow(ctx: durable.WorkflowContext) -> str:
        try:
            return await ctx.execute_sub_workflow("SubWorkflow")
        except durable.SubWorkflowAlreadyExistsError as e:
            return f"{type(e).__name__} {e.instance_id}"

    ex = executor(catches_sub_workflow)
    ex.process(activation(start("catches_sub_workflow")))
    c = ex.process(activation(resolve_sub_workflow(1, failure=common_pb2.Failure(
        type="InstanceAlreadyExists", message="busy"))))
    assert c.successful.commands[0].complete_workflow.result.data == \
        b'"SubWorkflowAlreadyExistsError r/child-1"'


@durable.workflow
async def loops(ctx: durable.WorkflowContext, n: int) -> int:
    try:
        if n < 3:
            ctx.continue_as_new(n + 1, remove_previous_executions=True)
    except Exception:  # noqa: BLE001 - must not swallow continue-as-new
        return -1
    return n


def test_continue_as_new_is_a_command_and_escapes_except_exception():
    c = executor(loops).process(activation(start("loops", 1)))
    assert commands(c) == ["continue_as_new"]
    command = c.successful.commands[0].continue_as_new
    assert [a.data for a in command.arguments] == [b"2"]
    assert command.workflow_name == "" and command.remove_previous_executions


@durable.workflow
async def patched_flow(ctx: durable.WorkflowContext) -> list:
    first = ctx.patched("p")
    again = ctx.patched("p")  # fixed for the run
    ctx.deprecate_patch("old")
    return [first, again]


def notify(patch_id):
    return protocol_pb2.WorkflowActivationJob(
        notify_has_patch=protocol_pb2.NotifyHasPatch(patch_id=patch_id))


def test_patched_live_replayed_with_and_without_marker():
    live = executor(patched_flow).process(activation(start("patched_flow")))
    assert commands(live) == ["set_patch_marker", "set_patch_marker", "complete_workflow"]
    assert live.successful.commands[0].set_patch_marker.patch_id == "p"
    assert live.successful.commands[1].set_patch_marker.deprecated
    assert live.successful.commands[2].complete_workflow.result.data == b"[true,true]"
    with_marker = executor(patched_flow).process(
        activation(start("patched_flow"), notify("p"), replaying=True))
    assert commands(with_marker) == commands(live)
    without = executor(patched_flow).process(activation(start("patched_flow"), replaying=True))
    assert commands(without) == ["set_patch_marker", "complete_workflow"]
    assert without.successful.commands[1].complete_workflow.result.data == b"[false,false]"


@durable.workflow
async def sleeps_on_scopes(ctx: durable.WorkflowContext) -> str:
    scoped, cancel = ctx.with_cancel()
    disconnected = ctx.disconnected()
    a = scoped.timer(10)
    b = disconnected.timer(20)
    try:
        await ctx.sleep(30)
    except durable.CanceledError:
        pass
    assert scoped.is_canceled and not disconnected.is_canceled and ctx.is_cancel_requested
    await b
    return "a canceled" if a.done() else "a pending"


def test_instance_cancellation_skips_disconnected_scopes():
    ex = executor(sleeps_on_scopes)
    c1 = ex.process(activation(start("sleeps_on_scopes")))
    assert commands(c1) == ["start_timer"] * 3
    c2 = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        cancel_workflow=protocol_pb2.CancelWorkflow())))
    # The workflow's own timer (3) first, then the derived scope's (1); not 2.
    assert [c.cancel_timer.seq for c in c2.successful.commands] == [3, 1]
    c3 = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        fire_timer=protocol_pb2.FireTimer(seq=2))))
    assert c3.successful.commands[0].complete_workflow.result.data == b'"a canceled"'


@durable.workflow
async def sub_workflow_on_scope(ctx: durable.WorkflowContext) -> str:
    scoped, cancel = ctx.with_cancel()
    sub_workflow = scoped.execute_sub_workflow("SubWorkflow")
    await ctx.sleep(1)
    cancel()
    cancel()  # idempotent
    try:
        await sub_workflow
    except durable.CanceledError:
        pass  # raised into the waiter; the sub-workflow's own outcome still arrives
    refused = scoped.execute_sub_workflow("SubWorkflow")
    try:
        await refused
    except durable.SubWorkflowCanceledError:
        pass
    return await sub_workflow


def test_canceling_a_scope_cancels_its_sub_workflows():
    ex = executor(sub_workflow_on_scope)
    assert commands(ex.process(activation(start("sub_workflow_on_scope")))) == [
        "start_sub_workflow", "start_timer"]
    c2 = ex.process(activation(protocol_pb2.WorkflowActivationJob(
        fire_timer=protocol_pb2.FireTimer(seq=1))))
    assert commands(c2) == ["cancel_sub_workflow"]  # once; the refused one issues nothing
    c3 = ex.process(activation(resolve_sub_workflow(1, "sub-workflow ended")))
    assert c3.successful.commands[0].complete_workflow.result.data == b'"sub-workflow ended"'
