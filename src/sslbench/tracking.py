"""MLflow tracking: one run per pipeline job, tagged with git commit, config hash and data version.

The store is ``sqlite:///mlflow.db`` (MLflow's ./mlruns file store errors in current releases);
:func:`init_store` creates the database and experiment once, before parallel jobs start, because
processes that create a new SQLite store at the same moment crash on the schema. Several
Snakemake runs may start at once in one folder, so creation and migration hold an exclusive
file lock (``mlflow.db.lock`` beside the database) and wait for each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import alembic.util  # noqa: E402
import mlflow  # noqa: E402  (telemetry must be off before the import)
import sqlalchemy.exc  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

MAX_PARAM_LENGTH = 6000
SQLITE_PREFIX = "sqlite:///"
#: What a damaged or half-created SQLite store raises while MLflow opens or migrates it.
STORE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, alembic.util.CommandError, MlflowException)


class TrackingStoreError(RuntimeError):
    """The tracking store cannot be opened; the message names it and the remedy."""


def config_hash(cfg: Mapping[str, Any]) -> str:
    """Short, stable hash of a config block (sorted-key JSON)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def git_commit(cwd: Path | None = None) -> str:
    """HEAD commit of the repository the pipeline runs from, or 'unknown' outside git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


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


def init_store(tracking_uri: str, experiment: str, artifact_root: Path) -> str:
    """Create the tracking database and the experiment if absent; return the experiment id.

    Raises :class:`TrackingStoreError` naming the store and the remedy if it cannot be opened.
    """
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


@contextlib.contextmanager
def tracked_run(
    run_name: str, tags: Mapping[str, str], params: Mapping[str, Any]
) -> Iterator[mlflow.ActiveRun]:
    """Start an MLflow run with ``tags`` and flattened ``params``.

    The store and experiment come from ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME``,
    which the workflow sets from the config's ``tracking`` block. A run of the same name left
    RUNNING by a killed job is marked KILLED first, so the store never shows it as live.
    """
    _close_stale_runs(run_name)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.set_tags(
            {**tags, "git_commit": git_commit(), "config_hash": config_hash(dict(params))}
        )
        mlflow.log_params(flatten(params))
        yield run
