"""End-to-end scenarios of the Python binding (acceptance 1, 3, 4, 5).

Each test runs on sqlite::memory: and on a SQLite file, with the executor
cache on and with cache size 0 (every task replays the run from history).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

import durable
import scenarios

CLASSIC_HISTORY = scenarios.CLASSIC_HISTORY


def kinds(client: durable.Client, instance) -> list:
    return [event.kind for event in client.history(instance)]


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# --- acceptance 1: the classic example ------------------------------------------


def test_classic_workflow_returns_59_with_the_cpp_history(harness):
    instance = harness.client.create(scenarios.workflow1, "input")
    assert harness.client.result(instance, timeout=30) == 59
    history = harness.client.history(instance)
    assert [e.kind for e in history] == CLASSIC_HISTORY
    assert history[2].attributes.activity_name == "activity1"
    assert history[5].attributes.activity_name == "activity2"
    state = harness.client.state(instance)
    assert state.state == durable.WorkflowState.FINISHED
    assert state.result == 59 and state.failure is None
    assert state.workflow_name == "workflow1"


# --- acceptance 3: timers, signals, cancellation -----------------------------------


def test_sleep_uses_a_durable_timer(harness):
    instance = harness.client.create(scenarios.sleeper, 0.2)
    assert harness.client.result(instance, timeout=30) == "slept"
    assert "TimerScheduled" in kinds(harness.client, instance)
    assert "TimerFired" in kinds(harness.client, instance)


def test_wait_any_over_timers_and_cancel_the_loser(harness):
    instance = harness.client.create(scenarios.race_timers)
    assert harness.client.result(instance, timeout=30) == "short"
    events = kinds(harness.client, instance)
    assert events.count("TimerScheduled") == 2
    assert events.count("TimerFired") == 1
    assert events.count("TimerCanceled") == 1


def test_signal_from_the_client_is_received(harness):
    instance = harness.client.create(scenarios.wait_for_approval)
    harness.client.signal(instance, "approve", "alice")
    assert harness.client.result(instance, timeout=30) == "approved by alice"
    assert "SignalReceived" in kinds(harness.client, instance)


def test_signals_arrive_in_send_order(harness):
    instance = harness.client.create(scenarios.collect_signals, 3)
    for n in (3, 1, 2):
        harness.client.signal(instance, "number", n)
    assert harness.client.result(instance, timeout=30) == [3, 1, 2]


def test_awaited_signal_to_a_missing_instance_fails_the_sender(harness):
    finished = harness.client.create(scenarios.wait_for_approval)
    harness.client.signal(finished, "approve", "x")
    harness.client.result(finished, timeout=30)
    for target in ("no-such-instance", finished.instance_id):
        instance = harness.client.create(scenarios.signals_and_waits, target)
        with pytest.raises(durable.WorkflowFailedError) as caught:
            harness.client.result(instance, timeout=30)
        assert caught.value.type == "InstanceNotFound"
        assert target in caught.value.message
        assert caught.value.non_retryable
    assert harness.run(scenarios.catches_undelivered_signal, "no-such-instance") == \
        "InstanceNotFoundError InstanceNotFound non_retryable=True"


def test_awaited_signal_to_a_live_instance_is_delivered(harness):
    target = harness.client.create(scenarios.wait_for_approval)
    assert harness.run(scenarios.signals_and_waits, target.instance_id) == "delivered"
    assert harness.client.result(target, timeout=30) == "approved by a workflow"


def test_signal_not_awaited_stays_fire_and_forget(harness):
    instance = harness.client.create(scenarios.signals_and_moves_on, "no-such-instance")
    assert harness.client.result(instance, timeout=30) == "moved on"
    assert "SignalExternalFailed" in kinds(harness.client, instance)


def test_select_between_signal_and_timer(harness):
    approved = harness.client.create(scenarios.approval_or_timeout, 3600)
    harness.client.signal(approved, "approve", "bob")
    assert harness.client.result(approved, timeout=30) == "approved by bob"
    timed_out = harness.client.create(scenarios.approval_or_timeout, 0.1)
    assert harness.client.result(timed_out, timeout=30) == "timed out"


def test_cancellation_runs_the_cleanup_step(harness):
    order = f"order-{time.monotonic_ns()}"
    instance = harness.client.create(scenarios.cancellable, order)
    wait_until(lambda: "TimerScheduled" in kinds(harness.client, instance))
    harness.client.cancel(instance, "customer changed their mind")
    with pytest.raises(durable.WorkflowCanceledError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "CANCELLED"
    assert "customer changed their mind" in caught.value.message
    with scenarios.cleanups_lock:
        assert scenarios.cleanups.count(order) == 1
    events = kinds(harness.client, instance)
    assert "WorkflowExecutionCanceled" in events
    assert "TimerCanceled" in events
    assert events.count("ActivityCompleted") == 1


# --- primitives: side effects, gather, tasks, payloads, retries ----------------------


def test_side_effect_runs_once_and_replays_its_value(harness):
    before = len(scenarios.side_effect_calls)
    instance = harness.client.create(scenarios.with_side_effect)
    token = harness.client.result(instance, timeout=30)
    assert len(scenarios.side_effect_calls) == before + 1
    assert token == 1000 + before + 1
    assert "SideEffectResult" in kinds(harness.client, instance)


def test_gather_fans_out_100_activities(harness):
    assert harness.run(scenarios.fan_out, 100) == 5050


def test_tasks_and_wait_any(harness):
    assert harness.run(scenarios.sub_workflow_tasks) == ["fast", "slow"]


def test_dataclass_payloads_and_async_activity(harness):
    instance = harness.client.create(scenarios.checkout, scenarios.Order("o-1", 3, 2.5))
    receipt = harness.client.result(instance, timeout=30, result_type=scenarios.Receipt)
    assert receipt == scenarios.Receipt(order_id="o-1", total=7.5)


def test_retry_policy_and_attempt(harness):
    assert harness.run(scenarios.retries) == 2


# --- acceptance 5: errors ---------------------------------------------------------


def test_activity_exception_reaches_the_workflow_with_type_and_message(harness):
    assert harness.run(scenarios.catches_activity_error) == "ValueError: bad input"


def test_client_sees_the_workflows_failure(harness):
    instance = harness.client.create(scenarios.propagates_activity_error)
    with pytest.raises(durable.WorkflowFailedError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "ValueError"
    assert caught.value.message == "boom"
    state = harness.client.state(instance)
    assert state.state == durable.WorkflowState.FINISHED
    assert state.failure is not None and state.failure.type == "ValueError"


def test_application_error_keeps_type_and_details(harness):
    instance = harness.client.create(scenarios.raises_application_error)
    with pytest.raises(durable.WorkflowFailedError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "InvalidOrder"
    assert caught.value.message == "order 7 is invalid"
    assert caught.value.details == {"order": 7}
    assert caught.value.non_retryable


def test_unknown_activity_fails_with_activity_not_registered(harness):
    instance = harness.client.create(scenarios.calls_unknown_activity)
    with pytest.raises(durable.WorkflowFailedError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "ActivityNotRegistered"
    assert "NoSuchActivity" in caught.value.message


@pytest.mark.parametrize("case, expected", [
    ("unknown", 'ActivityNotRegistered non_retryable=True: activity "NoSuchActivity" is not '
                "registered"),
    ("arity", 'InvalidArgument non_retryable=True: activity "add" expects 2 argument(s), got 1'),
    ("undecodable", 'InvalidArgument non_retryable=True: activity "add" argument 2 of 2: '
                    "expected a JSON integer for int, got 'two'"),
])
def test_permanent_activity_errors_are_not_retried(harness, case, expected):
    instance = harness.client.create(scenarios.retries_permanent_error, case)
    assert harness.client.result(instance, timeout=30).startswith(expected)
    failed = [e for e in harness.client.history(instance) if e.kind == "ActivityFailed"]
    assert [e.attributes.attempt for e in failed] == [0], "one attempt, never retried"


def test_unregistered_workflow_raises_workflow_not_registered(harness):
    instance = harness.client.create("NoSuchWorkflow", 1)
    with pytest.raises(durable.WorkflowNotRegisteredError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "WorkflowNotRegistered"
    assert '"NoSuchWorkflow" is not registered' in caught.value.message
    assert "workflow1" in caught.value.message  # lists what is registered


def test_asyncio_in_a_workflow_is_rejected_clearly(harness):
    instance = harness.client.create(scenarios.uses_asyncio_sleep)
    with pytest.raises(durable.WorkflowFailedError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "NonDeterministicAwaitError"
    assert "ctx.sleep()" in caught.value.message


def test_wrong_workflow_arguments_fail_clearly(harness):
    instance = harness.client.create(scenarios.workflow1, "a", "b")
    with pytest.raises(durable.WorkflowFailedError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "InvalidArgument"
    # The same wording as the C++ facade's, and final (no retry can fix it).
    assert caught.value.message == 'workflow "workflow1" expects 1 argument(s), got 2'
    assert caught.value.non_retryable


def test_client_errors_are_typed(harness):
    with pytest.raises(durable.NotFoundError):
        harness.client.result("no-such-instance", timeout=1)
    with pytest.raises(durable.NotFoundError):
        harness.client.signal("no-such-instance", "x", 1)
    instance = harness.client.create(scenarios.wait_for_approval, instance_id="fixed-id")
    with pytest.raises(durable.AlreadyExistsError):
        harness.client.create(scenarios.wait_for_approval, instance_id="fixed-id")
    with pytest.raises(durable.WaitTimeoutError):
        harness.client.result(instance, timeout=0.2)
    harness.client.signal(instance, "approve", "carol")
    assert harness.client.result(instance, timeout=30) == "approved by carol"


# --- process-level behaviour --------------------------------------------------------


def test_malformed_uri_raises_invalid_argument():
    with pytest.raises(durable.InvalidArgumentError) as caught:
        durable.open("postgres://nope")
    assert caught.value.code_name == "INVALID_ARGUMENT"
    with pytest.raises(durable.InvalidArgumentError):
        durable.open("not a uri")


def test_two_workers_on_different_backends_in_one_process():
    backends = [durable.open("sqlite::memory:") for _ in range(2)]
    workers = [durable.Worker(b, workflows=[scenarios.workflow1],
                              activities=[scenarios.activity1, scenarios.activity2])
               for b in backends]
    results = []
    with workers[0], workers[1]:
        def run(backend):
            client = durable.Client(backend)
            results.append(client.result(client.create(scenarios.workflow1, "x"), timeout=30))

        threads = [threading.Thread(target=run, args=(b,)) for b in backends]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [59, 59]


def test_worker_stop_is_idempotent_and_restart_is_refused():
    backend = durable.open("sqlite::memory:")
    worker = durable.Worker(backend, workflows=[scenarios.workflow1])
    worker.start()
    assert worker.stop()
    assert worker.stop()
    with pytest.raises(durable.FailedPreconditionError):
        worker.start()


def test_registration_errors():
    with pytest.raises(TypeError, match="async def"):
        durable.Worker(durable.open("sqlite::memory:"), workflows=[scenarios.activity1])

    async def workflow1(ctx: durable.WorkflowContext) -> int:
        return 1

    with pytest.raises(durable.InvalidArgumentError, match="workflow1"):
        durable.Worker(durable.open("sqlite::memory:"),
                       workflows=[scenarios.workflow1, workflow1])


def test_cache_size_0_replays_every_task(harness, cache_size):
    key = f"k-{time.monotonic_ns()}"
    assert harness.run(scenarios.counted, key) == 15
    executions = scenarios.starts.count(key)
    if cache_size == 0:
        assert executions == 3  # one full replay per workflow task
    else:
        assert executions == 1
