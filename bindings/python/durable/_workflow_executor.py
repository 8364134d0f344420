"""WorkflowExecutor: the worker's cache of workflow runs.

The Python side of the C++ facade's internal/workflow_executor.h, and the
binding's half of the engine's executor cache: it routes each activation to
the run of its execution, creates the run on StartWorkflow (replay rebuilds
it from scratch), and drops it on RemoveFromCache or when an activation
fails, since the engine then evicts it too and replays it later.
Thread-safe: the worker processes activations of different executions on
several threads (the engine never hands out two of one execution at once).
"""

from __future__ import annotations

import threading
from typing import Dict, Mapping

from durable._proto import protocol_pb2
from durable._workflow_run import _Run
from durable.registry import WorkflowDefinition


class WorkflowExecutor:
    """Applies activations to cached runs (the binding's executor cache mirror)."""

    def __init__(self, workflows: Mapping[str, WorkflowDefinition]) -> None:
        self._workflows = workflows
        self._runs: Dict[str, _Run] = {}
        self._lock = threading.Lock()

    def process(self, activation: protocol_pb2.WorkflowActivation
                ) -> protocol_pb2.WorkflowActivationCompletion:
        execution_id = activation.execution_id
        evict = any(job.HasField("remove_from_cache") for job in activation.jobs)
        start = any(job.HasField("start_workflow") for job in activation.jobs)
        if evict:
            with self._lock:
                run = self._runs.pop(execution_id, None)
            if run is not None:
                run.close()
            completion = protocol_pb2.WorkflowActivationCompletion(execution_id=execution_id)
            completion.successful.SetInParent()
            return completion
        with self._lock:
            run = self._runs.get(execution_id)
            if start or run is None:
                if run is not None:
                    run.close()
                # A StartWorkflow always begins from scratch: replay rebuilds the run.
                run = _Run(self._workflows, execution_id)
                self._runs[execution_id] = run
        completion = run.activate(activation)
        if completion.HasField("failed"):
            with self._lock:
                if self._runs.get(execution_id) is run:
                    del self._runs[execution_id]
            run.close()
        return completion

    def cached_runs(self) -> int:
        with self._lock:
            return len(self._runs)

    def close(self) -> None:
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            run.close()
