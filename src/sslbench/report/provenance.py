"""Which MLflow runs a report page's numbers come from: the latest finished run of every job,
read back from the pipeline's tracking store (each job logs one run named
``<variant> <stage> · <method> seed<seed> · <dataset>``, see
``sslbench.tracking.run_name``), and the machines, precisions and code they ran with."""

from __future__ import annotations

import os
import warnings

import pandas as pd
from tqdm import TqdmWarning

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# MLflow imports tqdm.auto, which in a report notebook (no ipywidgets) says on import that it
# falls back to plain bars: that warning would head every page.
warnings.filterwarnings("ignore", category=TqdmWarning)

from mlflow import MlflowClient  # noqa: E402  (telemetry off, tqdm quiet before the import)

MAX_RUNS = 50_000
#: Provenance tags shown per run and summarised in every page's header.
MACHINE_TAGS = (
    "device",
    "precision",
    "layout",
    "cpu_model",
    "cpu_bf16_isa",
    "gpu_name",
    "torch_version",
    "git_commit",
    "git_dirty",
    "config_hash",
)
SHORT_COMMIT = 10


def mlflow_runs(tracking_uri: str, experiment: str) -> pd.DataFrame:
    """One row per job (run name): its stage, the latest finished run id and its start time."""
    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    columns = ["run_name", "stage", "variant", "run_id", "started", *MACHINE_TAGS]
    if found is None:
        return pd.DataFrame(columns=columns)
    runs = client.search_runs(
        [found.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        max_results=MAX_RUNS,
        order_by=["attributes.start_time DESC"],
    )
    table = pd.DataFrame(
        [
            {
                "run_name": run.info.run_name,
                "stage": run.data.tags.get("stage", ""),
                "variant": run.data.tags.get("variant", ""),
                "run_id": run.info.run_id,
                "started": pd.Timestamp(run.info.start_time, unit="ms"),
            }
            | {tag: run.data.tags.get(tag, "") for tag in MACHINE_TAGS}
            for run in runs
        ],
        columns=columns,
    )
    return table.drop_duplicates("run_name").sort_values("run_name").reset_index(drop=True)


def runs_of(table: pd.DataFrame, stages: tuple[str, ...]) -> pd.DataFrame:
    """The jobs of ``stages`` (a page's sources), indexed by run name."""
    return table[table["stage"].isin(stages)].set_index("run_name")[["run_id", "started"]]


def _machine_line(row: pd.Series) -> str:
    hardware = row["gpu_name"] or f"{row['cpu_model']} (bf16 ISA: {row['cpu_bf16_isa']})"
    dirty = " + uncommitted edits" if row["git_dirty"] == "true" else ""
    return (
        f"{row['device']} — {hardware}; {row['precision']}, {row['layout']}; "
        f"torch {row['torch_version']}; commit {row['git_commit'][:SHORT_COMMIT]}{dirty}; "
        f"config {row['config_hash']}"
    )


def machine_summary(table: pd.DataFrame) -> list[tuple[str, int]]:
    """Each distinct machine / precision / code / config the runs of ``table`` came from, with
    how many runs; runs logged before provenance tags existed count as 'not recorded'."""
    if table.empty:
        return []
    recorded = table[table["device"] != ""]
    lines = recorded.apply(_machine_line, axis=1).value_counts() if len(recorded) else {}
    summary = [(str(line), int(n)) for line, n in dict(lines).items()]
    missing = len(table) - len(recorded)
    return summary + (
        [("not recorded (runs from before provenance tags)", missing)] if missing else []
    )
