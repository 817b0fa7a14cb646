"""Where MLflow opens: a copied project serves its own artifacts, the experiment opens on its
runs table, and ``sslbench-ui`` runs with telemetry off even when the caller did not say so."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest

from sslbench.store_location import (
    EXPERIMENT_KIND_TAG,
    ML_WORKFLOW_QUERY,
    MODEL_DEVELOPMENT,
    prepare_store_for_ui,
)
from sslbench.tracking import init_store

EXPERIMENT = "sslbench"
UI_START_SECONDS = 120


def _project(root: Path) -> str:
    """A project with one run that logged ``note.txt``; its tracking URI."""
    root.mkdir()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    init_store(uri, EXPERIMENT, root / "mlartifacts")
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    note = root / "note.txt"
    note.write_text("original")
    with mlflow.start_run(run_name="pretrain-none pretrain"):
        mlflow.log_artifact(str(note))
    return uri


def test_a_copied_project_serves_its_own_artifacts(tmp_path):
    _project(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    copied = next((tmp_path / "b/mlartifacts").rglob("note.txt"))
    copied.write_text("copy")
    uri = f"sqlite:///{tmp_path / 'b/mlflow.db'}"
    prepare_store_for_ui(uri, EXPERIMENT, tmp_path / "b/mlartifacts")
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment.artifact_location == (tmp_path / "b/mlartifacts").resolve().as_uri()
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_DEVELOPMENT
    (run,) = client.search_runs([experiment.experiment_id])
    assert str(tmp_path / "b") in run.info.artifact_uri
    fetched = client.download_artifacts(run.info.run_id, "note.txt", str(tmp_path))
    assert Path(fetched).read_text() == "copy"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str) -> dict:
    deadline = time.monotonic() + UI_START_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the MLflow UI did not answer {url} within {UI_START_SECONDS} s")


@pytest.mark.slow  # starts the real MLflow server (up to UI_START_SECONDS)
def test_ui_opens_on_the_runs_table_with_telemetry_off(tmp_path):
    uri = _project(tmp_path / "p")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_DISABLE_TELEMETRY", "CI")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sslbench.ui", "--store", uri, "--port", str(port)],
        cwd=tmp_path / "p",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        telemetry = _get_json(f"http://127.0.0.1:{port}/ajax-api/3.0/mlflow/ui-telemetry")
        assert telemetry["disable_ui_telemetry"] is True
        first_line = proc.stdout.readline()
        assert f"/#/experiments/1/runs?{ML_WORKFLOW_QUERY}" in first_line, first_line
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    experiment = mlflow.MlflowClient(uri).get_experiment_by_name(EXPERIMENT)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_DEVELOPMENT
