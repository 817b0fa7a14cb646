"""The real Snakemake DAG on the tiny config, in a temporary copy of the workflow.

Checks: outputs and report, MLflow runs read back through its client, a second run is a no-op,
a parameter change reruns exactly its dependants, bad config and --use-conda without conda fail
before any job starts, and the HTML opens in headless Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import mlflow
import pytest
import torch
from workflow_runner import RUN_DIR, planned_rules, snakemake

pytestmark = pytest.mark.integration

METRICS = ["q_score", "q_score_v1", "mean", "std", "soft_sparsity", "l1_norm", "z_score_max"]


@pytest.fixture(scope="module")
def workdir(tiny_pipeline) -> Path:
    return tiny_pipeline


def test_every_stage_wrote_its_outputs(workdir):
    for name in (
        "model.pt",
        "history.json",
        "features.pt",
        "eval.json",
        "predictions.csv",
        "qscore.json",
        "scores.csv",
    ):
        assert (workdir / RUN_DIR / name).stat().st_size > 0, name
    assert (workdir / "data/trifeature/train/masks.npy").is_file()
    assert not list(workdir.rglob("*.tmp")), "a temporary file was left behind"
    summary = json.loads((workdir / RUN_DIR / "qscore.json").read_text())
    assert set(summary["metrics"]) == set(METRICS)
    for values in summary["metrics"].values():
        assert 0.0 <= values["auroc"] <= 1.0 and 0.0 <= values["auprc"] <= 1.0


VARIANTS = {
    "pretrain-none",
    "pretrain-sparsehead",
    "pretrain-ifm",
    "finetune-none",
    "finetune-lasso",
    "finetune-qscore",
    "finetune-temperature",
    "finetune-no_l2_norm",
}


def test_every_regulariser_trained_a_model(workdir):
    base = workdir / RUN_DIR.parent
    assert {p.name for p in base.iterdir() if (p / "qscore.json").is_file()} == VARIANTS
    pretrained = torch.load(base / "pretrain-none/model.pt", weights_only=True)["state_dict"]
    control = torch.load(base / "finetune-none/model.pt", weights_only=True)["state_dict"]
    name = "backbone.stem.0.weight"
    assert not torch.equal(pretrained[name], control[name]), "the control must be fine-tuned"


def test_mlflow_holds_the_runs_and_metrics(workdir):
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sslbench")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    stages = Counter(run.data.tags["stage"] for run in runs)
    assert stages == {"pretrain": 3, "finetune": 5, "evaluate": 8, "analyse": 8, "collapse": 5}
    assert {r.data.tags["variant"] for r in runs if r.data.tags["stage"] == "analyse"} == VARIANTS
    meta = json.loads((workdir / "data/trifeature/meta.json").read_text())
    for run in runs:
        if run.data.tags["stage"] != "collapse":  # 002's jobs generate their own data
            assert run.data.tags["data_version"] == meta["version"]
        assert run.data.tags["config_hash"] and run.data.tags["git_commit"]
        assert run.info.status == "FINISHED"
    by_key = {
        (r.data.tags["stage"], r.data.tags["variant"]): r
        for r in runs
        if r.data.tags["stage"] != "collapse"
    }
    pretrain = by_key["pretrain", "pretrain-none"]
    losses = client.get_metric_history(pretrain.info.run_id, "train_loss")
    history = json.loads((workdir / RUN_DIR / "history.json").read_text())
    assert [m.value for m in sorted(losses, key=lambda m: m.step)] == pytest.approx(
        [h["loss"] for h in history]
    )
    evaluation = json.loads((workdir / RUN_DIR / "eval.json").read_text())
    assert by_key["evaluate", "pretrain-none"].data.metrics["linear_probe_accuracy"] == (
        pytest.approx(evaluation["linear_probe_accuracy"])
    )
    summary = json.loads((workdir / RUN_DIR / "qscore.json").read_text())
    assert by_key["analyse", "pretrain-none"].data.metrics["q_score_auroc"] == pytest.approx(
        summary["metrics"]["q_score"]["auroc"]
    )
    assert pretrain.data.params["method_params.temperature"] == "0.2"
    assert by_key["finetune", "finetune-qscore"].data.tags["regulariser"] == "qscore"


def test_report_names_every_metric_and_a_verdict(workdir):
    html = (workdir / "reports/index.html").read_text()
    for name in [*METRICS, "AUROC", "AUPRC", "linear probe accuracy", "k-NN accuracy"]:
        assert name in html, name
    assert re.search(r"(not replicated|replicated|inconclusive)", html)
    assert 'id="collapse-loss"' in html and 'id="regularisers"' in html
    for setting in ("table1_box", "table1_sphere", "linear_dc0", "linear_dc1", "linear_dc1_tau"):
        assert (workdir / f"results/collapse/{setting}/seed0.json").is_file(), setting
    notebook = json.loads((workdir / "reports/report.ipynb").read_text())
    outputs = [o for cell in notebook["cells"] for o in cell.get("outputs", [])]
    assert outputs and not [o for o in outputs if o["output_type"] == "error"]
    assert "runs_json = " not in html, "notebook inputs must be hidden"


def test_report_renders_in_headless_chromium(workdir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; `make test` installs it")
        pytest.skip("chromium is not installed (make test installs it)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = (workdir / "reports/index.html").as_uri()
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert 'id="claims"' in dom.stdout and 'id="qscore"' in dom.stdout
    assert dom.stdout.count("<img") >= 2, "ROC/PR and loss figures must be embedded"
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1280,2000", url],
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 10_000


def test_second_run_does_nothing(workdir):
    result = snakemake(workdir)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr
    assert planned_rules(result) == set()


def test_changing_one_parameter_reruns_exactly_its_dependants(workdir):
    (workdir / "config/knn.yaml").write_text(
        "evaluation:\n  knn:\n    k: 7\n    temperature: 0.1\n"
    )
    result = snakemake(workdir, "--dry-run", configfiles=("config/test.yaml", "config/knn.yaml"))
    assert result.returncode == 0, result.stderr
    assert planned_rules(result) == {"evaluate", "qscore", "report", "all"}

    (workdir / "config/tau.yaml").write_text(
        "methods:\n  simclr:\n    temperature: 0.5\n    projection_hidden_dim: 32\n"
        "    projection_dim: 16\n"
    )
    result = snakemake(workdir, "--dry-run", configfiles=("config/test.yaml", "config/tau.yaml"))
    assert planned_rules(result) == {
        "pretrain",
        "finetune",
        "features",
        "evaluate",
        "qscore",
        "report",
        "all",
    }
