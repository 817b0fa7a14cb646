"""Keep a project's MLflow store pointing at the project's own artifacts, and open on the runs.

MLflow stores every artifact location as an absolute path (relative ones are resolved against
the working directory when the experiment is created), so a copied or moved project would serve
the *original* project's artifacts. :func:`relocate_artifacts` re-roots the experiment's and its
runs' artifact locations on the project's configured ``artifact_root`` whenever they point
elsewhere; the workflow calls it on start and ``sslbench-ui`` before serving.

MLflow 3 opens an experiment of unknown kind on its GenAI "Overview" (traces); the experiment
is tagged as model development so that the UI shows the runs table instead.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)
SQLITE_PREFIX = "sqlite:///"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"
#: The MLflow UI's global switch between its GenAI and classic ML views (a URL parameter).
ML_WORKFLOW_QUERY = "workflowType=machine_learning"


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI (None for any other store)."""
    if not tracking_uri.startswith(SQLITE_PREFIX):
        return None
    return Path(tracking_uri.removeprefix(SQLITE_PREFIX))


def artifact_root_uri(artifact_root: Path) -> str:
    """The URI MLflow records for ``artifact_root`` (absolute, as MLflow resolves it)."""
    return artifact_root.resolve().as_uri()


def relocate_artifacts(tracking_uri: str, experiment: str, artifact_root: Path) -> bool:
    """Re-root ``experiment``'s artifact locations on ``artifact_root``; True if they moved.

    Only SQLite stores (the project's own file) are relocated; a tracking server owns its
    artifact locations.
    """
    database = sqlite_path(tracking_uri)
    if database is None or not database.exists():
        return False
    new = artifact_root_uri(artifact_root)
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT experiment_id, artifact_location FROM experiments WHERE name = ?",
            (experiment,),
        ).fetchone()
        if row is None or row[1] == new:
            return False
        experiment_id, old = row
        _rewrite(connection, experiment_id, old, new)
    log.info("MLflow artifacts of %s moved from %s to %s", experiment, old, new)
    return True


def _rewrite(connection: sqlite3.Connection, experiment_id: int, old: str, new: str) -> None:
    connection.execute(
        "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
        (new, experiment_id),
    )
    connection.execute(
        "UPDATE runs SET artifact_uri = ? || substr(artifact_uri, ?) "
        "WHERE experiment_id = ? AND substr(artifact_uri, 1, ?) = ?",
        (new, len(old) + 1, experiment_id, len(old), old),
    )


def runs_page_url(host: str, port: int, experiment_id: str) -> str:
    """The MLflow UI address of the experiment's runs table in the classic ML view."""
    return f"http://{host}:{port}/#/experiments/{experiment_id}/runs?{ML_WORKFLOW_QUERY}"


def open_on_runs_table(tracking_uri: str, experiment: str) -> str | None:
    """Tag ``experiment`` as model development (the UI's runs table, not GenAI traces);
    return its id (None when it does not exist yet)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    if found.tags.get(EXPERIMENT_KIND_TAG) != MODEL_DEVELOPMENT:
        client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, MODEL_DEVELOPMENT)
    return found.experiment_id


def prepare_store_for_ui(tracking_uri: str, experiment: str, artifact_root: Path) -> str | None:
    """Both fixes above, for the workflow's start and ``sslbench-ui``; the experiment's id."""
    relocate_artifacts(tracking_uri, experiment, artifact_root)
    return open_on_runs_table(tracking_uri, experiment)
