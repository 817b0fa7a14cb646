"""The DAG with and without the job server (``compute.job_server``, sslbench.jobserver): one
model's chain run with the opposite of the default setting writes what the shared tiny run
(default setting) wrote — served jobs and jobs in their own processes give the same bytes — and
the served run's server logs every job and is gone when Snakemake ends."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
import torch
import yaml
from workflow_runner import REPO, RUN_DIR, copy_workflow, snakemake

pytestmark = pytest.mark.integration

#: one model's chain: prepare → pretrain → features → evaluate → qscore (after "--": the
#: helper puts targets behind --configfile, whose list would swallow them)
TARGET = RUN_DIR / "qscore.json"
STAGES = ("prepare_dataset", "pretrain", "features", "evaluate", "qscore")
DEFAULT = yaml.safe_load((REPO / "config/config.yaml").read_text())["compute"]["job_server"]


def without_provenance(path: Path) -> dict:
    result = json.loads(path.read_text())
    result.pop("provenance", None)
    return result


def tensors(path: Path) -> dict[str, torch.Tensor]:
    saved = torch.load(path, weights_only=True)
    return saved.get("state_dict", saved)


def source_names(work: Path) -> set[str]:
    """File names of the MLflow source (``mlflow.source.name``) of a work tree's runs."""
    client = mlflow.MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("sslbench").experiment_id])
    return {Path(run.data.tags["mlflow.source.name"]).name for run in runs}


def test_served_jobs_write_what_their_own_processes_write(tiny_pipeline, tmp_path):
    work = copy_workflow(tmp_path / "other")
    (work / "other.yaml").write_text(f"compute: {{job_server: {str(not DEFAULT).lower()}}}\n")
    result = snakemake(
        work, "--", str(TARGET), configfiles=(".test/config/test.yaml", "other.yaml")
    )
    assert result.returncode == 0, result.stderr[-5000:]

    served = work if not DEFAULT else tiny_pipeline
    served_log = (served / "logs/jobserver.log").read_text()
    for stage in STAGES:
        assert f": {stage}" in served_log, f"the server did not run the {stage} job"
    assert served_log.rstrip().endswith("stopped")
    assert not (tiny_pipeline if not DEFAULT else work).joinpath("logs/jobserver.log").exists()

    # MLflow names the stage's CLI as every run's source, served or not (not the server)
    assert source_names(work) == source_names(tiny_pipeline) == {"cli.py"}
    mine, theirs = work / RUN_DIR, tiny_pipeline / RUN_DIR
    for name in ("eval.json", "qscore.json"):
        assert without_provenance(mine / name) == without_provenance(theirs / name), name
    assert (mine / "predictions.csv").read_bytes() == (theirs / "predictions.csv").read_bytes()
    for name in ("features.pt", "model.pt"):
        ours, reference = tensors(mine / name), tensors(theirs / name)
        ours.pop("provenance", None)
        reference.pop("provenance", None)
        assert ours.keys() == reference.keys(), name
        for key in ours:
            assert torch.equal(ours[key], reference[key]), f"{name}: {key}"
