"""The DAG with ``compute.job_server: true`` (sslbench.jobserver): its jobs run as children of
one warm interpreter and write what the same jobs write in their own processes (the shared
tiny run), the server logs every job it ran, and it is gone when Snakemake ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from workflow_runner import RUN_DIR, copy_workflow, snakemake

pytestmark = pytest.mark.integration

#: one model's chain: prepare → pretrain → features → evaluate → qscore
TARGET = RUN_DIR / "qscore.json"
STAGES = ("prepare_dataset", "pretrain", "features", "evaluate", "qscore")


def without_provenance(path: Path) -> dict:
    result = json.loads(path.read_text())
    result.pop("provenance", None)
    return result


def test_served_jobs_write_what_their_own_processes_write(tiny_pipeline, tmp_path):
    work = copy_workflow(tmp_path / "served")
    (work / "served.yaml").write_text("compute: {job_server: true}\n")
    result = snakemake(work, str(TARGET), configfiles=("config/test.yaml", "served.yaml"))
    assert result.returncode == 0, result.stderr[-5000:]

    served_log = (work / "logs/jobserver.log").read_text()
    for stage in STAGES:
        assert f": {stage}" in served_log, f"the server did not run the {stage} job"
    assert served_log.count("exited with 0") == len(STAGES)
    assert served_log.rstrip().endswith("stopped")

    mine, theirs = work / RUN_DIR, tiny_pipeline / RUN_DIR
    for name in ("eval.json", "qscore.json"):
        assert without_provenance(mine / name) == without_provenance(theirs / name), name
    assert (mine / "predictions.csv").read_bytes() == (theirs / "predictions.csv").read_bytes()
    features = [torch.load(d / "features.pt", weights_only=True) for d in (mine, theirs)]
    models = [torch.load(d / "model.pt", weights_only=True)["state_dict"] for d in (mine, theirs)]
    for ours, reference in (features, models):
        ours.pop("provenance", None)
        reference.pop("provenance", None)
        assert ours.keys() == reference.keys()
        for key in ours:
            assert torch.equal(ours[key], reference[key]), key
