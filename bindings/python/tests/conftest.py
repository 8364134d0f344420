"""Fixtures: every scenario runs on in-memory and on-file SQLite, with the
executor cache on (default size) and off (size 0: full replay on every task)."""

from __future__ import annotations

import os
from typing import Iterator, Optional

import pytest

import durable
import scenarios


@pytest.fixture(params=["memory", "file"])
def backend_uri(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "memory":
        return "sqlite::memory:"
    return f"sqlite://{tmp_path}/durable.db"


@pytest.fixture(params=[None, 0], ids=["cache_default", "cache_0"])
def cache_size(request: pytest.FixtureRequest) -> Optional[int]:
    return request.param


class Harness:
    """A backend, a running worker with every scenario registered, and a client."""

    def __init__(self, uri: str, cache_size: Optional[int]) -> None:
        self.backend = durable.open(uri)
        self.cache_size = cache_size
        self.worker = durable.Worker(self.backend, workflows=scenarios.WORKFLOWS,
                                     activities=scenarios.ACTIVITIES,
                                     max_cached_workflows=cache_size,
                                     workflow_task_retry_delay=0.05)
        self.worker.start()
        self.client = durable.Client(self.backend)

    def run(self, workflow, *args, timeout: float = 30, **kwargs):
        instance = self.client.create(workflow, *args)
        return self.client.result(instance, timeout=timeout, **kwargs)

    def close(self) -> None:
        assert self.worker.stop(timeout=10)
        self.client.close()
        self.backend.close()


@pytest.fixture
def harness(backend_uri: str, cache_size: Optional[int]) -> Iterator[Harness]:
    h = Harness(backend_uri, cache_size)
    yield h
    h.close()


def runfile(path: str) -> str:
    """The absolute path of a runfile given relative to the workspace root."""
    root = os.environ.get("TEST_SRCDIR")
    if root:
        return os.path.join(root, os.environ.get("TEST_WORKSPACE", "durable"), path)
    return os.path.join(os.path.dirname(__file__), "..", "..", "..", path)
