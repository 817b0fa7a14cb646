"""Issue 22 fault 5: an unreachable tracking server was silent for 253 s before failing, and a
server killed mid-run hung the job ~8.6 min. Now the server is health-checked with a short
timeout before any job, and every request retries a bounded number of times. Loopback only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sslbench.tracking import SERVER_PROBE_TIMEOUT_S, TrackingStoreError, init_store

pytestmark = pytest.mark.reliability

#: A job against a dead server must fail well before MLflow's default ~4 min of retries.
JOB_FAILS_WITHIN_S = 60
SERVER_START_S = 120

JOB = """
import time
import mlflow
from sslbench.tracking import tracked_run
with tracked_run("job", {"stage": "server-test"}, {"p": 1}):
    print("started", flush=True)
    for step in range(100000):
        mlflow.log_metric("loss", 1.0, step=step)
        time.sleep(0.2)
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_is_named_before_any_job(tmp_path: Path):
    uri = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    with pytest.raises(TrackingStoreError) as info:
        init_store(uri, "server-test", tmp_path / "artifacts")
    assert time.monotonic() - started < SERVER_PROBE_TIMEOUT_S + 5
    assert f"MLflow tracking server {uri} (config key tracking.tracking_uri)" in str(info.value)


def _start_server(tmp_path: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "1", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}"]
        + ["--default-artifact-root", str(tmp_path / "artifacts")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the server's workers die with it
    )
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGKILL)
    raise AssertionError("mlflow server did not start")


def test_a_server_killed_mid_run_fails_the_job_within_a_bound(tmp_path: Path):
    port = _closed_port()
    uri = f"http://127.0.0.1:{port}"
    server = _start_server(tmp_path, port)
    try:
        init_store(uri, "server-test", tmp_path / "artifacts")
        env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "server-test"}
        job = subprocess.Popen(
            [sys.executable, "-c", JOB],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert job.stdout.readline().strip() == "started", job.stderr.read()
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    killed = time.monotonic()
    job.communicate(timeout=JOB_FAILS_WITHIN_S * 2)
    assert job.returncode != 0
    assert time.monotonic() - killed < JOB_FAILS_WITHIN_S
