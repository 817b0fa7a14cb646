"""8 jobs logging to one SQLite MLflow store at once lose no run, parameter or metric; several
processes creating the store at once all succeed; a damaged store is named with its remedy."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from sslbench.tracking import TrackingStoreError, init_store

JOBS = 8
PARAMS = 30
METRIC_STEPS = 40

WORKER = """
import os, sys
import mlflow
from sslbench.tracking import tracked_run
job = int(sys.argv[1])
params = {{f"p{{i}}": i * job for i in range({params})}}
with tracked_run(f"job{{job}}", {{"stage": "concurrency", "job": str(job)}}, params):
    for step in range({steps}):
        mlflow.log_metric("loss", job + step / 100, step=step)
        mlflow.log_metrics({{"a": step, "b": -step}}, step=step)
"""


@pytest.mark.slow  # 8 Python processes each importing MLflow (~30 s on 2 cores)
def test_parallel_jobs_lose_nothing(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = init_store(uri, "concurrency", tmp_path / "artifacts")
    env = {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_EXPERIMENT_NAME": "concurrency",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PATH": "/usr/bin:/bin",
    }
    code = WORKER.format(params=PARAMS, steps=METRIC_STEPS)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(job)], env=env, stderr=subprocess.PIPE, text=True
        )
        for job in range(JOBS)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * JOBS, "\n".join(errors)

    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([experiment_id])
    assert sorted(r.data.tags["job"] for r in runs) == sorted(str(j) for j in range(JOBS))
    for run in runs:
        job = int(run.data.tags["job"])
        assert run.info.status == "FINISHED"
        assert {k: v for k, v in run.data.params.items()} == {
            f"p{i}": str(i * job) for i in range(PARAMS)
        }
        for name in ("loss", "a", "b"):
            history = client.get_metric_history(run.info.run_id, name)
            assert sorted(m.step for m in history) == list(range(METRIC_STEPS)), (job, name)


CREATORS = 3
CREATE = """
import sys
from pathlib import Path
from sslbench.tracking import init_store
print(init_store(sys.argv[1], "concurrency", Path(sys.argv[2])))
"""


@pytest.mark.slow  # several Python processes each importing MLflow
def test_processes_creating_the_store_at_once_all_succeed(tmp_path: Path):
    """Issue 22 fault 1: three runs started together in a fresh folder crashed on the schema
    (``duplicate column name: step``) and could leave a half-made store."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE, uri, str(tmp_path / "artifacts")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(CREATORS)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * CREATORS, [err for _, err in outputs]
    assert len({out.strip() for out, _ in outputs}) == 1  # one experiment, the same id
    assert init_store(uri, "concurrency", tmp_path / "artifacts") == outputs[0][0].strip()


def _half_made(path: Path) -> None:
    """A store whose creation stopped midway: a table already carries a later migration's column."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metrics (step BIGINT)")


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"not a database" * 100)


@pytest.mark.parametrize("damage", [_half_made, _not_sqlite])
def test_a_damaged_store_is_named_with_its_remedy(tmp_path: Path, damage):
    database = tmp_path / "mlflow.db"
    damage(database)
    with pytest.raises(TrackingStoreError) as info:
        init_store(f"sqlite:///{database}", "concurrency", tmp_path / "artifacts")
    message = str(info.value)
    assert str(database) in message and "damaged or half-created" in message
    assert "delete it" in message and "rerun" in message
