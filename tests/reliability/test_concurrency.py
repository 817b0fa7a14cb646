"""8 jobs logging to one SQLite MLflow store at once lose no run, parameter or metric."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mlflow

from sslbench.tracking import init_store

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
