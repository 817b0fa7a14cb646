"""MLflow tracking: one run per pipeline job, tagged with its provenance (machine, precision,
library versions, git commit and dirty flag, whole-config and job hashes; see
:mod:`sslbench.provenance`) and data version.

The store is ``sqlite:///mlflow.db`` (MLflow's ./mlruns file store errors in current releases);
:func:`init_store` creates the database and experiment once, before parallel jobs start, because
processes that create a new SQLite store at the same moment crash on the schema.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow  # noqa: E402  (telemetry must be off before the import)

from sslbench.provenance import config_hash, job_hash, provenance  # noqa: E402

__all__ = ["config_hash", "flatten", "init_store", "run_provenance_tags", "tracked_run"]
MAX_PARAM_LENGTH = 6000


def flatten(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config → {"a.b.c": "value"} for ``mlflow.log_params``."""
    flat: dict[str, str] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value)[:MAX_PARAM_LENGTH]
    return flat


def init_store(tracking_uri: str, experiment: str, artifact_root: Path) -> str:
    """Create the tracking database and the experiment if absent; return the experiment id."""
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    artifact_root.mkdir(parents=True, exist_ok=True)
    return client.create_experiment(experiment, artifact_location=artifact_root.resolve().as_uri())


def _close_stale_runs(run_name: str) -> None:
    client = mlflow.MlflowClient()
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    experiment = client.get_experiment_by_name(name) if name else None
    if experiment is None:
        return
    stale = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"attributes.run_name = '{run_name}' and attributes.status = 'RUNNING'",
    )
    for run in stale:
        client.set_terminated(run.info.run_id, status="KILLED")


def run_provenance_tags(params: Mapping[str, Any], compute: Any | None = None) -> dict[str, str]:
    """The provenance tags of a job: :func:`sslbench.provenance.provenance` plus its job hash."""
    return provenance(compute) | {"job_hash": job_hash(params, compute)}


@contextlib.contextmanager
def tracked_run(
    run_name: str, tags: Mapping[str, str], params: Mapping[str, Any], compute: Any | None = None
) -> Iterator[mlflow.ActiveRun]:
    """Start an MLflow run with ``tags``, the provenance tags of ``compute`` (the job's
    :class:`sslbench.device.Compute`; None for jobs that run no network) and flattened ``params``.

    The store and experiment come from ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME``,
    which the workflow sets from the config's ``tracking`` block. A run of the same name left
    RUNNING by a killed job is marked KILLED first, so the store never shows it as live.
    """
    _close_stale_runs(run_name)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.set_tags(run_provenance_tags(params, compute) | dict(tags))
        mlflow.log_params(flatten(params))
        yield run
