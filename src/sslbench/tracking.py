"""MLflow tracking: one run per pipeline job, tagged with its provenance (machine, precision,
library versions, git commit and dirty flag, whole-config and job hashes; see
:mod:`sslbench.provenance`) and data version.

The store is ``sqlite:///mlflow.db`` (MLflow's ./mlruns file store errors in current releases);
:func:`init_store` creates the database and experiment once, before parallel jobs start, because
processes that create a new SQLite store at the same moment crash on the schema. Several
Snakemake runs may start at once in one folder, so creation and migration hold an exclusive
file lock (``mlflow.db.lock`` beside the database) and wait for each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
#: Bounded retry of every MLflow HTTP request, set before MLflow reads it. MLflow's defaults
#: (7 retries, backoff factor 2 s, 120 s per try) kept a job silent for ~4 min against a dead
#: server and ~8.6 min after one died mid-run; 3 retries with backoff 1 s (about 1 + 2 + 4 s)
#: ride out a server restart and 30 s per try a busy server, so a dead one fails a job in
#: seconds when refused and in about 2 min when it hangs. The last checkpoint is written before
#: an epoch is logged, so a rerun resumes from it and logs what was missed.
HTTP_RETRY_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
for _name, _value in HTTP_RETRY_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

import alembic.util  # noqa: E402
import mlflow  # noqa: E402  (telemetry must be off before the import)
import sqlalchemy.exc  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from sslbench.io import write_json  # noqa: E402
from sslbench.provenance import config_hash, job_hash, provenance  # noqa: E402

__all__ = [
    "config_hash",
    "flatten",
    "init_store",
    "publish_json",
    "run_name",
    "run_provenance_tags",
    "run_tags",
    "tracked_run",
]
MAX_PARAM_LENGTH = 6000
SQLITE_PREFIX = "sqlite:///"
#: A live MLflow server answers /health in milliseconds; 5 s leaves room for a loaded one.
SERVER_PROBE_TIMEOUT_S = 5
#: What a damaged or half-created SQLite store raises while MLflow opens or migrates it.
STORE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, alembic.util.CommandError, MlflowException)


class TrackingStoreError(RuntimeError):
    """The tracking store cannot be opened; the message names it and the remedy."""


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


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI; None for a tracking server."""
    if not tracking_uri.startswith(SQLITE_PREFIX):
        return None
    return Path(tracking_uri.removeprefix(SQLITE_PREFIX))


@contextlib.contextmanager
def store_lock(tracking_uri: str) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite store's ``<file>.lock`` (no-op for a server)."""
    database = sqlite_path(tracking_uri)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes or the process dies
        yield


def _damaged(tracking_uri: str, err: Exception) -> TrackingStoreError:
    cause = str(err).strip().splitlines()[0]
    database = sqlite_path(tracking_uri)
    if database is None:
        return TrackingStoreError(f"MLflow tracking server {tracking_uri} failed: {cause}")
    return TrackingStoreError(
        f"MLflow store {database} is damaged or half-created ({cause}); move it aside or delete "
        f"it (its runs are lost unless you restore a backup) and rerun, which creates a new one"
    )


def check_server(tracking_uri: str) -> None:
    """Raise :class:`TrackingStoreError` unless the tracking server answers its health check
    at all within :data:`SERVER_PROBE_TIMEOUT_S` (no-op for a SQLite store)."""
    if sqlite_path(tracking_uri) is not None:
        return
    url = tracking_uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=SERVER_PROBE_TIMEOUT_S):  # noqa: S310
            return
    except urllib.error.HTTPError:
        return  # it answered (e.g. 401 behind an auth proxy): reachable, MLflow reports the rest
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise TrackingStoreError(
            f"MLflow tracking server {tracking_uri} (config key tracking.tracking_uri) did not "
            f"answer {url} within {SERVER_PROBE_TIMEOUT_S} s ({reason}); start it "
            "(`mlflow server --host 127.0.0.1 --port <port>`) or fix the URI"
        ) from err


def init_store(tracking_uri: str, experiment: str, artifact_root: Path) -> str:
    """Create the tracking database and the experiment if absent; return the experiment id.

    A tracking server is health-checked first, with a short timeout. Raises
    :class:`TrackingStoreError` naming the store or server and the remedy if it cannot be used.
    """
    check_server(tracking_uri)
    with store_lock(tracking_uri):
        try:
            mlflow.set_tracking_uri(tracking_uri)
            client = mlflow.MlflowClient()
            found = client.get_experiment_by_name(experiment)
            if found is not None:
                return found.experiment_id
            artifact_root.mkdir(parents=True, exist_ok=True)
            location = artifact_root.resolve().as_uri()
            return client.create_experiment(experiment, artifact_location=location)
        except STORE_ERRORS as err:
            raise _damaged(tracking_uri, err) from err


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


def run_tags(params: dict[str, Any], stage: str, data_version: str) -> dict[str, str]:
    """MLflow tags that identify a job of the DAG."""
    return {
        "stage": stage,
        "dataset": params["dataset"],
        "method": params["method"],
        "seed": str(params["seed"]),
        "variant": params["variant"],
        "data_version": data_version,
    }


def run_name(params: dict[str, Any], stage: str) -> str:
    """MLflow run name, the parts that tell runs apart first (the UI cuts long names):
    e.g. ``finetune-lasso qscore · simclr seed0 · trifeature``."""
    return (
        f"{params['variant']} {stage} · {params['method']} seed{params['seed']}"
        f" · {params['dataset']}"
    )


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


def with_provenance(
    result: dict[str, Any], params: dict[str, Any], compute: Any | None = None
) -> dict[str, Any]:
    """``result`` with the job's provenance (machine, precision, versions, commit, hashes)."""
    return result | {"provenance": run_provenance_tags(params, compute)}


def publish_json(
    out: Path, result: dict[str, Any], params: dict[str, Any], compute: Any | None = None
) -> None:
    """Write a stage's ``result`` to ``out`` atomically with its provenance and log it as an
    artifact of the active MLflow run (inside :func:`tracked_run`)."""
    write_json(out, with_provenance(result, params, compute))
    mlflow.log_artifact(str(out))
