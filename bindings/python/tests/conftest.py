"""Fixtures: every scenario runs on in-memory and on-file SQLite, with the
executor cache on (default size) and off (size 0: full replay on every task).

``--backends=redis`` runs them on Redis instead: a private redis-server on
127.0.0.1 (a free port, a temporary directory, stopped at the end of the
session), a fresh key prefix per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Iterator, Optional

import pytest

import durable
import scenarios


def pytest_addoption(parser) -> None:
    parser.addoption("--backends", default="sqlite",
                     help="sqlite (memory and file) or redis")


def pytest_generate_tests(metafunc) -> None:
    if "backend_kind" in metafunc.fixturenames:
        kinds = (["redis"] if metafunc.config.getoption("backends") == "redis"
                 else ["memory", "file"])
        metafunc.parametrize("backend_kind", kinds)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A private redis-server for the session; yields its redis:// URI."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        pytest.fail("redis-server is missing: run tools/setup.sh --test")
    directory = tempfile.mkdtemp(prefix="durable-redis-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(directory, "redis.log"), "w")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", directory, "--daemonize", "no"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _answers_ping(port):
            assert server.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def backend_uri(backend_kind: str, tmp_path, request) -> str:
    if backend_kind == "memory":
        return "sqlite::memory:"
    if backend_kind == "redis":
        server = request.getfixturevalue("redis_server")
        return f"{server}/?prefix=py-{uuid.uuid4().hex}"
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
