"""Which MLflow runs a report page's numbers come from: the latest finished run of every job,
read back from the pipeline's tracking store (each job logs one run named
``<stage>:<dataset>/<method>/seed<seed>/<variant>``, see ``sslbench.stages.common.run_name``)."""

from __future__ import annotations

import os

import pandas as pd

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from mlflow import MlflowClient  # noqa: E402  (telemetry must be off before the import)

MAX_RUNS = 50_000


def mlflow_runs(tracking_uri: str, experiment: str) -> pd.DataFrame:
    """One row per job (run name): its stage, the latest finished run id and its start time."""
    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    columns = ["run_name", "stage", "variant", "run_id", "started"]
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
            for run in runs
        ],
        columns=columns,
    )
    return table.drop_duplicates("run_name").sort_values("run_name").reset_index(drop=True)


def runs_of(table: pd.DataFrame, stages: tuple[str, ...]) -> pd.DataFrame:
    """The jobs of ``stages`` (a page's sources), indexed by run name."""
    return table[table["stage"].isin(stages)].set_index("run_name")[["run_id", "started"]]
