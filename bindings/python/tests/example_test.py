"""Acceptance 6 (the example runs) and Ctrl-C stops a worker cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import durable
from conftest import runfile

EXAMPLE = runfile("examples/python/simple.py")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def test_example_prints_59():
    out = subprocess.run([sys.executable, EXAMPLE], env=_env(), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "finished: result=59" in out.stdout


def test_ctrl_c_stops_a_serving_worker_cleanly(tmp_path):
    uri = f"sqlite://{tmp_path}/serve.db"
    durable.open(uri).close()
    worker = subprocess.Popen([sys.executable, EXAMPLE, "--serve", uri], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        assert "worker running" in worker.stdout.readline()
        client = durable.Client(durable.open(uri))
        instance = client.create("workflow1", "from the test")
        assert client.result(instance, timeout=60) == 59
        worker.send_signal(signal.SIGINT)
        stdout, stderr = worker.communicate(timeout=30)
        assert worker.returncode == 0, stderr
        assert "worker stopped" in stdout
    finally:
        if worker.poll() is None:
            worker.kill()
