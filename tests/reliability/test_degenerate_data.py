"""Issue 22 fault 2: on easy or one-class data (two solid-colour classes) the probe is 100 %
correct, the Q-Score job failed ("correct contains a single class") and no report page was built
for any dataset. Now the analysis records "not computable" and the report still builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image
from workflow_runner import BASELINE_ONLY, SHUFFLED_ORDER, copy_workflow, snakemake

from sslbench.analysis.prediction import NOT_COMPUTABLE
from sslbench.io import read_json, write_json
from sslbench.report.representation import less_than_verdict
from sslbench.report.tables import RunResult
from sslbench.report.verdicts import INCONCLUSIVE, evaluate_claim
from sslbench.stages import analyse
from sslbench.tracking import init_store

N_TRAIN, N_TEST, DIM = 200, 100, 16


def _all_correct_outputs(tmp_path: Path) -> dict[str, Path]:
    """A prepared-dataset stub, features and predictions where every test sample is correct."""
    rng = np.random.default_rng(0)
    write_json(tmp_path / "data" / "meta.json", {"version": "degenerate", "factors": ["class"]})
    features = {
        "h_train": torch.from_numpy(rng.normal(size=(N_TRAIN, DIM))).float(),
        "h_test": torch.from_numpy(rng.normal(size=(N_TEST, DIM))).float(),
        "labels_train": torch.from_numpy(rng.integers(0, 2, size=(N_TRAIN, 1))),
        "labels_test": torch.zeros(N_TEST, 1, dtype=torch.long),
    }
    torch.save(features, tmp_path / "features.pt")
    correct = [True] * N_TEST
    columns = {"correct": correct, "knn_correct": correct, "prediction": [0] * N_TEST}
    pd.DataFrame(columns | {"confidence": [0.9] * N_TEST}).to_csv(
        tmp_path / "predictions.csv", index_label="sample"
    )
    return {
        "dataset_dir": tmp_path / "data",
        "features_path": tmp_path / "features.pt",
        "predictions_path": tmp_path / "predictions.csv",
        "summary_out": tmp_path / "qscore.json",
        "scores_out": tmp_path / "scores.csv",
    }


def test_an_all_correct_probe_records_not_computable(tmp_path, repo, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    init_store(uri, "degenerate", tmp_path / "artifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "degenerate")
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    params = {"dataset": "d", "method": "simclr", "seed": 0, "variant": "pretrain-none"}
    paths = _all_correct_outputs(tmp_path)
    analysis = {
        "target": "class",
        "qscore": config["analysis"]["qscore"],
        "linear_probe": config["evaluation"]["linear_probe"],
    }
    analyse.run(params | analysis, **paths)

    summary = read_json(paths["summary_out"])
    assert f"all {N_TEST} samples are correct" in summary["not_computable"]
    assert all(v == NOT_COMPUTABLE for v in summary["metrics"].values())
    assert summary["share_correct"] == 1.0
    assert len(pd.read_csv(paths["scores_out"])) == N_TEST

    claims = yaml.safe_load((repo / "workflow/report/claims.yaml").read_text())["claims"]
    for claim in (c for c in claims if "score" in c):
        result = evaluate_claim(claim, summary)
        assert result["verdict"] == INCONCLUSIVE and "not computable" in result["detail"]
    run = RunResult(
        "r", "d/simclr/seed0", "finetune-qscore", summary, {}, [], pd.DataFrame(), {}, {}, ""
    )
    control = RunResult(**{**vars(run), "variant": "finetune-none"})
    rule = {
        "a": {"variant": "finetune-qscore", "path": "summary.metrics.q_score.auroc"},
        "b": {"variant": "finetune-none", "path": "summary.metrics.q_score.auroc"},
    }
    [(_, result)] = less_than_verdict([run, control], rule)
    assert result["verdict"] == INCONCLUSIVE


SOLID = {"red": (255, 0, 0), "blue": (0, 0, 255)}
SOLID_CONFIG = """datasets:
  solid: {source: imagefolder, target: class, path: solid, image_size: 16}
pretrain:
  datasets: [solid]
  epochs: 1
suppression:
  datasets: []
"""


@pytest.mark.reliability
def test_two_solid_colour_classes_still_build_the_report(tmp_path):
    work = copy_workflow(tmp_path / "solid")
    for split, n in (("train", 64), ("test", 32)):
        for name, colour in SOLID.items():
            folder = work / "solid" / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(np.full((16, 16, 3), colour, np.uint8)).save(folder / f"{i}.png")
    (work / "config/solid.yaml").write_text(SOLID_CONFIG)
    result = snakemake(work, *SHUFFLED_ORDER, configfiles=(*BASELINE_ONLY, "config/solid.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = read_json(work / "results/solid/simclr/seed0/pretrain-none/qscore.json")
    assert summary["share_correct"] == 1.0 and summary["not_computable"]
    for page in ("index", "qscore"):
        assert "not computable" in (work / "reports" / f"{page}.html").read_text()
