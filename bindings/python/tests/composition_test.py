"""Sub-workflows, continue-as-new, activity retries, heartbeats and timeouts,
versioning and cancellation scopes (issue 5's scenarios on the Python binding).

Each harness test runs on sqlite::memory: and on a SQLite file, with the
executor cache on and with cache size 0 (every task replays from history).
"""

from __future__ import annotations

import time
from typing import Optional

import pytest

import durable
import scenarios


def kinds(client: durable.Client, instance) -> list:
    return [event.kind for event in client.history(instance)]


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns()}"


# --- sub-workflows -----------------------------------------------------------------


def test_sub_workflow_returns_its_result_to_the_parent(harness):
    instance = harness.client.create(scenarios.parent, "ada")
    assert harness.client.result(instance, timeout=30) == "HELLO ADA"
    events = harness.client.history(instance)
    assert [e.kind for e in events].count("SubWorkflowScheduled") == 1
    assert [e.kind for e in events].count("SubWorkflowCompleted") == 1
    scheduled = next(e for e in events if e.kind == "SubWorkflowScheduled")
    # The default sub-workflow id is derived from the parent's run and the sequence number.
    sub_workflow_id = f"{instance.execution_id}/child-1"
    assert scheduled.attributes.instance_id == sub_workflow_id
    assert scheduled.attributes.workflow_name == "greet"
    assert harness.client.result(sub_workflow_id, timeout=5) == "hello ada"


def test_sub_workflow_failure_reaches_the_parent_typed(harness):
    assert (harness.run(scenarios.parent_of_broken_sub_workflow)
            == "OutOfStock: widget is out of stock")


def test_canceling_the_parent_cancels_its_sub_workflows(harness):
    instance = harness.client.create(scenarios.parent_of_sleepers)
    sub_workflows = [f"{instance.execution_id}/child-{seq}" for seq in (1, 2)]

    def sub_workflows_sleep() -> bool:
        try:
            return all("TimerScheduled" in kinds(harness.client, c) for c in sub_workflows)
        except durable.NotFoundError:
            return False

    wait_until(sub_workflows_sleep)
    harness.client.cancel(instance, "stop")
    assert harness.client.result(instance, timeout=30) == 3  # each sub-workflow returned its value
    assert [harness.client.result(c, timeout=5) for c in sub_workflows] == [1, 2]
    events = kinds(harness.client, instance)
    assert events.count("SubWorkflowCancellationRequested") == 2
    assert events.count("SubWorkflowCompleted") == 2


def test_sub_workflow_canceled_in_the_activation_that_started_it_never_runs(harness):
    key = unique("never-runs")
    instance = harness.client.create(scenarios.cancels_sub_workflow_at_once, key)
    assert harness.client.result(instance, timeout=30) == f"canceled {key}"
    assert key not in scenarios.sub_workflow_runs
    with pytest.raises(durable.NotFoundError):
        harness.client.state(key)
    events = kinds(harness.client, instance)
    assert "SubWorkflowScheduled" not in events  # started and canceled: no trace
    assert "SubWorkflowCancellationRequested" not in events


def test_sub_workflow_with_the_id_of_an_active_instance_fails_typed(harness):
    busy = harness.client.create(scenarios.wait_for_approval, instance_id=unique("busy"))
    assert (harness.run(scenarios.starts_sub_workflow_with_id, busy.instance_id)
            == "InstanceAlreadyExists")
    # Once that instance finished, its id may be reused by a sub-workflow.
    harness.client.signal(busy, "approve", "dora")
    assert harness.client.result(busy, timeout=30) == "approved by dora"
    instance = harness.client.create(scenarios.starts_sub_workflow_with_id, busy.instance_id)
    wait_until(lambda: harness.client.state(busy).execution_id != busy.execution_id)
    harness.client.signal(busy, "approve", "eve")
    assert harness.client.result(instance, timeout=30) == "approved by eve"


# --- continue-as-new ---------------------------------------------------------------


def test_continue_as_new_restarts_with_an_empty_history(harness):
    instance = harness.client.create(scenarios.countdown, 2, 0)
    assert harness.client.result(instance, timeout=30) == 3  # 0 + 2 + 1
    state = harness.client.state(instance)
    assert state.state == durable.WorkflowState.FINISHED
    assert state.execution_id != instance.execution_id
    events = kinds(harness.client, instance)
    assert "WorkflowExecutionContinuedAsNew" not in events  # the last execution finished
    assert events.count("TimerScheduled") == 0  # n == 0: no sleep in the last execution


def test_parent_gets_the_result_of_a_sub_workflow_that_continued_as_new_twice(harness):
    instance = harness.client.create(scenarios.parent_of_countdown)
    assert harness.client.result(instance, timeout=30) == 103  # 100 + 2 + 1
    assert kinds(harness.client, instance).count("SubWorkflowCompleted") == 1


# --- activity retries, heartbeats, timeouts -----------------------------------------


def test_retried_activity_leaves_one_scheduled_and_one_completed_event(harness):
    instance = harness.client.create(scenarios.retried_activity, False)
    assert harness.client.result(instance, timeout=30) == 2  # attempts 0 and 1 failed
    events = harness.client.history(instance)
    names = [e.kind for e in events]
    assert names.count("ActivityScheduled") == 1
    assert names.count("ActivityCompleted") == 1
    assert "ActivityFailed" not in names
    scheduled = next(e for e in events if e.kind == "ActivityScheduled").attributes
    assert scheduled.retry_policy.maximum_attempts == 4
    assert scheduled.retry_policy.initial_interval_us == 10_000
    assert scheduled.retry_policy.backoff_coefficient == 2.0
    assert scheduled.retry_policy.maximum_interval_us == 1_000_000
    assert scheduled.start_to_close_timeout_us == 30_000_000
    assert scheduled.schedule_to_close_timeout_us == 60_000_000
    assert next(e for e in events if e.kind == "ActivityCompleted").attributes.attempt == 2


def test_non_retryable_error_type_fails_after_one_attempt(harness):
    instance = harness.client.create(scenarios.retried_activity, True)
    with pytest.raises(durable.WorkflowFailedError) as caught:
        harness.client.result(instance, timeout=30)
    assert caught.value.type == "ConnectionError"
    assert caught.value.message == "attempt 0 failed"
    failed = [e for e in harness.client.history(instance) if e.kind == "ActivityFailed"]
    assert len(failed) == 1 and failed[0].attributes.attempt == 0


def test_heartbeat_timeout_fails_the_attempt_and_it_is_retried(harness):
    key = unique("hb")
    instance = harness.client.create(scenarios.heartbeat_retry, key)
    # Attempt 1 heartbeats for 0.4 s under a 0.2 s heartbeat timeout and completes.
    assert harness.client.result(instance, timeout=30) == 1
    names = kinds(harness.client, instance)
    assert names.count("ActivityScheduled") == 1 and names.count("ActivityCompleted") == 1
    # Attempt 0 stopped heartbeating; its next heartbeat() raised.
    wait_until(lambda: f"{key}: attempt 0 timed out" in scenarios.heartbeat_log)


def test_activity_timeouts_are_typed(harness):
    assert harness.run(scenarios.timeout_types) == [
        "HeartbeatTimeout", "StartToCloseTimeout", "ScheduleToCloseTimeout"]


# --- cancellation scopes ---------------------------------------------------------------


def test_with_cancel_scope(harness):
    instance = harness.client.create(scenarios.scoped_cancel)
    assert harness.client.result(instance, timeout=30) == [
        "timer canceled", "activity refused", "3"]
    events = kinds(harness.client, instance)
    assert events.count("TimerCanceled") == 1
    assert events.count("ActivityScheduled") == 1  # the refused one issued no command


def test_disconnected_context_survives_cancellation(harness):
    order = unique("order")
    instance = harness.client.create(scenarios.cleanup_on_disconnected, order)
    wait_until(lambda: kinds(harness.client, instance).count("TimerScheduled") == 2)
    harness.client.cancel(instance)
    assert harness.client.result(instance, timeout=30) == f"cleaned up {order}"
    events = kinds(harness.client, instance)
    assert events.count("TimerCanceled") == 1  # the workflow's sleep, not the cleanup timer
    assert events.count("TimerFired") == 1


def test_cancel_before_the_first_task_reaches_the_first_await(harness):
    order = unique("early")
    # Created and canceled before any worker ran it: the workflow still gets to
    # clean up (CanceledError at its first await), and its timer leaves no trace.
    harness.worker.stop(timeout=10)
    instance = harness.client.create(scenarios.cancellable, order)
    harness.client.cancel(instance, "too late")
    harness.worker = durable.Worker(harness.backend, workflows=scenarios.WORKFLOWS,
                                    activities=scenarios.ACTIVITIES,
                                    max_cached_workflows=harness.cache_size).start()
    with pytest.raises(durable.WorkflowCanceledError):
        harness.client.result(instance, timeout=30)
    with scenarios.cleanups_lock:
        assert scenarios.cleanups.count(order) == 1
    events = kinds(harness.client, instance)
    assert "TimerScheduled" not in events
    assert events.count("ActivityCompleted") == 1


# --- versioning across a worker restart ---------------------------------------------


def _worker(backend: durable.Backend, workflow, cache_size: Optional[int]) -> durable.Worker:
    return durable.Worker(backend, workflows=[workflow], activities=[scenarios.audit],
                          max_cached_workflows=cache_size, workflow_task_retry_delay=0.05,
                          fail_workflow_on_nondeterminism=True)


def test_patched_keeps_old_histories_on_the_old_path(backend_uri, cache_size):
    backend = durable.open(backend_uri)
    client = durable.Client(backend)
    # Release 1 starts an instance, which blocks on a signal.
    with _worker(backend, scenarios.versioned_v1, cache_size):
        old = client.create("versioned")
        wait_until(lambda: "WorkflowExecutionStarted" in kinds(client, old))
    # Release 2 replays it without the patch, and takes the new path for new instances.
    with _worker(backend, scenarios.versioned_v2, cache_size):
        new = client.create("versioned")
        wait_until(lambda: "ActivityCompleted" in kinds(client, new))
        client.signal(old, "approve", "ann")
        assert client.result(old, timeout=30) == "approved by ann, not audited"
        assert "MarkerRecorded" not in kinds(client, old)
        assert "MarkerRecorded" in kinds(client, new)
    # Release 3 deprecates the patch: histories with the marker still replay.
    with _worker(backend, scenarios.versioned_v3, cache_size):
        client.signal(new, "approve", "bob")
        assert client.result(new, timeout=30) == "approved by bob, audited request"
        newest = client.create("versioned")
        client.signal(newest, "approve", "cy")
        assert client.result(newest, timeout=30) == "approved by cy, audited request"
    client.close()
    backend.close()


# --- limits -----------------------------------------------------------------------------


def test_history_limit_fails_the_workflow_clearly(backend_uri, cache_size):
    backend = durable.open(backend_uri)
    with durable.Worker(backend, workflows=[scenarios.fan_out], activities=[scenarios.add],
                        max_cached_workflows=cache_size, max_history_length=10):
        client = durable.Client(backend)
        instance = client.create(scenarios.fan_out, 20)
        with pytest.raises(durable.HistoryLimitExceededError) as caught:
            client.result(instance, timeout=30)
        assert caught.value.type == "HistoryLimitExceeded"
        assert caught.value.message
        client.close()
    backend.close()
