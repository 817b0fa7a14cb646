"""The job server (sslbench.jobserver): a job run by a child of the warm interpreter writes what
the same job writes in its own process, its log and exit status reach the caller, signals reach
the job, a job whose caller was killed is stopped, and without a server the job runs itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sslbench import jobserver

pytestmark = pytest.mark.slow  # the server imports every stage (torch, MLflow, lightly, …)

DATASET = {"source": "trifeature", "target": "colour", "image_size": 16, "seed": 0}
SMALL = json.dumps({"dataset_config": DATASET | {"n_train": 200, "n_test": 100}})
#: generating this many images takes far longer than the tests wait before signalling the job
LARGE = json.dumps({"dataset_config": DATASET | {"image_size": 32, "n_train": 400_000}})
START_TIMEOUT_S = 120
POLL_S = 0.1


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Path]:
    """A real job server owned by a sleeping process (the Snakemake run in the workflow)."""
    folder = tmp_path_factory.mktemp("server")
    path = folder / "jobs.sock"
    owner = subprocess.Popen(["sleep", "600"])
    log = (folder / "server.log").open("w")
    served = subprocess.Popen(
        [sys.executable, "-m", "sslbench.jobserver", str(path), str(owner.pid)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not path.exists() and served.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert path.exists(), (folder / "server.log").read_text()
    yield path
    owner.kill()
    owner.wait()
    served.wait(timeout=30)
    log.close()
    assert not path.exists(), "the server removes its socket when its owner is gone"


def prepare(
    cwd: Path, out: str, params: str, server: Path | None, wait: bool = True
) -> subprocess.Popen:
    """``sslbench.cli prepare_dataset`` in ``cwd`` with its output into ``<out>.log``."""
    env = dict(os.environ)
    env.pop(jobserver.ENV, None)
    if server is not None:
        env[jobserver.ENV] = str(server)
    with (cwd / f"{out}.log").open("w") as log:
        job = subprocess.Popen(
            [sys.executable, "-m", "sslbench.cli", "prepare_dataset", "--params", params]
            + ["--out-dir", out],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if wait:
        job.wait(timeout=300)
    return job


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_served_job_writes_what_its_own_process_writes(server, tmp_path):
    direct = prepare(tmp_path, "direct", SMALL, None)
    served = prepare(tmp_path, "served", SMALL, server)
    assert direct.returncode == served.returncode == 0
    assert files(tmp_path / "served") == files(tmp_path / "direct")
    log = (tmp_path / "served.log").read_text()
    assert "prepared served" in log and "prepare_dataset: start-up" in log


def test_a_failing_job_reports_its_error_and_exit_status(server, tmp_path):
    job = prepare(tmp_path, "bad", "{}", server)
    assert job.returncode == 1
    assert "--params lacks the key 'dataset_config'" in (tmp_path / "bad.log").read_text()


def test_without_a_server_the_job_runs_in_its_own_process(tmp_path):
    job = prepare(tmp_path, "alone", SMALL, tmp_path / "no-server.sock")
    assert job.returncode == 0
    assert (tmp_path / "alone" / "meta.json").is_file()


def served_child(server_log: Path, before: int) -> int:
    """The pid of the job the server forked after its log had ``before`` lines."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in server_log.read_text().splitlines()[before:]:
            if line.endswith(": prepare_dataset"):
                return int(line.split("job ")[1].split(":")[0])
        time.sleep(POLL_S)
    raise AssertionError("the server never started the job")


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(POLL_S)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_signalled_caller_stops_its_job(server, tmp_path, signum):
    """SIGTERM (Snakemake stopping a job) is forwarded; after SIGKILL the server notices its
    caller is gone and terminates the job itself."""
    server_log = server.parent / "server.log"
    before = len(server_log.read_text().splitlines())
    caller = prepare(tmp_path, "large", LARGE, server, wait=False)
    child = served_child(server_log, before)
    caller.send_signal(signum)
    caller.wait(timeout=60)
    assert gone(child)
    if signum == signal.SIGTERM:
        assert caller.returncode == jobserver.SIGNAL_EXIT_BASE + signal.SIGTERM
