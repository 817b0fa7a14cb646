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
from workflow_runner import RUN_DIR, job_counts, planned_rules, snakemake

from sslbench.provenance import PROVENANCE_KEYS

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
        "representation.json",
        "interpretability.json",
        "gradcam.png",
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
    "pretrain-ifm_eps005",
    "pretrain-identity_head",
    "pretrain-linear_head",
    "finetune-none",
    "finetune-lasso",
    "finetune-qscore",
    "finetune-temperature",
    "finetune-no_l2_norm",
    "finetune000-none",
    "finetune000-qscore_v1",
}


def test_every_regulariser_trained_a_model(workdir):
    base = workdir / RUN_DIR.parent
    assert {p.name for p in base.iterdir() if (p / "qscore.json").is_file()} == VARIANTS
    pretrained = torch.load(base / "pretrain-none/model.pt", weights_only=True)["state_dict"]
    control = torch.load(base / "finetune-none/model.pt", weights_only=True)["state_dict"]
    name = "backbone.stem.0.weight"
    assert not torch.equal(pretrained[name], control[name]), "the control must be fine-tuned"
    for variant in sorted(v for v in VARIANTS if v.startswith("finetune")):
        movement = json.loads((base / variant / "movement.json").read_text())
        assert movement["relative_weight_change"] > 0, variant


def test_mlflow_holds_the_runs_and_metrics(workdir):
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sslbench")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    stages = Counter(run.data.tags["stage"] for run in runs)
    assert stages == {
        "pretrain": 5,  # the models of the per-method DAG
        "suppression_pretrain": 4,  # the encoders of 004's sweep
        "finetune": 7,  # 001's protocol: none + 4 regularisers; 000's: none + Q-Score v1
        "evaluate": 12,
        "qscore": 12,
        "representation": 12,
        "interpret": 12,
        "collapse": 5,
        "suppression_readout": 4,
    }
    assert {r.data.tags["variant"] for r in runs if r.data.tags["stage"] == "qscore"} == VARIANTS
    meta = json.loads((workdir / "data/trifeature/meta.json").read_text())
    for run in runs:
        if run.data.tags["stage"] != "collapse":  # 002's jobs generate their own data
            assert run.data.tags["data_version"] == meta["version"]
        assert set(PROVENANCE_KEYS) <= set(run.data.tags), run.info.run_name
        assert run.data.tags["git_dirty"] in ("true", "false")
        assert run.info.status == "FINISHED"
    assert len({run.data.tags["config_hash"] for run in runs}) == 1, "one config, one hash"
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
    assert by_key["qscore", "pretrain-none"].data.metrics["q_score_auroc"] == pytest.approx(
        summary["metrics"]["q_score"]["auroc"]
    )
    representation = json.loads((workdir / RUN_DIR / "representation.json").read_text())
    assert by_key["representation", "pretrain-none"].data.metrics["effective_rank_h"] == (
        pytest.approx(representation["spectrum"]["h"]["effective_rank"])
    )
    interpretability = json.loads((workdir / RUN_DIR / "interpretability.json").read_text())
    assert by_key["interpret", "pretrain-none"].data.metrics["miou_core_correct"] == (
        pytest.approx(interpretability["groups"]["correct"]["miou_core"])
    )
    sweep = by_key["suppression_readout", "suppression-tau0.05-ifm"]
    readout = json.loads(
        (workdir / "results/suppression/trifeature/tau0.05/ifm/seed0/readout.json").read_text()
    )
    assert sweep.data.metrics["shape_readout"] == pytest.approx(
        readout["readout"]["shape"]["accuracy"]
    )
    assert by_key["suppression_pretrain", "suppression-tau0.05-ifm"].data.params[
        "method_params.temperature"
    ] == ("0.05")
    assert pretrain.data.params["method_params.temperature"] == "0.2"
    finetune = by_key["finetune", "finetune-qscore"]
    assert finetune.data.tags["regulariser"] == "qscore"
    movement = json.loads((workdir / RUN_DIR.parent / "finetune-qscore/movement.json").read_text())
    assert finetune.data.metrics["relative_weight_change"] == pytest.approx(
        movement["relative_weight_change"]
    )
    variant = by_key["pretrain", "pretrain-ifm_eps005"].data.params
    assert (variant["regulariser.name"], variant["regulariser.params.epsilon"]) == ('"ifm"', "0.05")


def test_representation_analyses_cover_every_model(workdir):
    base = workdir / RUN_DIR.parent
    ranks = {}
    for variant in VARIANTS:
        rep = json.loads((base / variant / "representation.json").read_text())
        curves = rep["compression"]
        assert curves["keep_percent"] == [100.0, 43.75, 18.75]
        for name in ("discriminative", "random", "pca", "lower_tail", "upper_tail"):
            assert all(0.0 <= v <= 1.0 for v in curves[name]), (variant, name)
        ranks[variant] = {s: rep["spectrum"][s]["effective_rank"] for s in ("h", "z")}
        assert 1.0 <= ranks[variant]["h"] <= rep["spectrum"]["h"]["dimension"]
    assert ranks["pretrain-identity_head"]["h"] == pytest.approx(
        ranks["pretrain-identity_head"]["z"]
    )
    interp = json.loads((base / "pretrain-none/interpretability.json").read_text())
    groups = interp["groups"]
    assert groups["correct"]["n"] + groups["misclassified"]["n"] == len(interp["iou_core"]) > 0
    for core, spurious in zip(interp["iou_core"], interp["iou_spurious"], strict=True):
        assert core + spurious == pytest.approx(1.0)


def test_suppression_sweep_reads_out_every_factor_of_every_encoder(workdir):
    readouts = sorted((workdir / "results/suppression/trifeature").rglob("readout.json"))
    assert len(readouts) == 4  # τ ∈ {0.05, 0.5} × {none, ifm} × seed 0 in .test/config/test.yaml
    for path in readouts:
        result = json.loads(path.read_text())
        assert set(result["readout"]) == {"shape", "texture", "colour"}
        assert all(0.0 <= v["accuracy"] <= 1.0 for v in result["readout"].values())
        assert result["infonce_loss"] > 0
        assert f"tau{result['temperature']}" in str(path) and result["regulariser"] in str(path)


PAGES = ("index", "qscore", "collapse", "sparsehead", "ifm")


def _pages_html(workdir: Path) -> str:
    return "".join((workdir / f"reports/{page}.html").read_text() for page in PAGES)


def test_report_names_every_metric_and_a_verdict(workdir):
    html = _pages_html(workdir)
    for name in [*METRICS, "AUROC", "AUPRC", "linear probe accuracy", "k-NN accuracy"]:
        assert name in html, name
    assert re.search(r"(contradicted|replicated|inconclusive)", html)
    tables = ("collapse-loss", "regularisers", "spectra", "interpretability", "suppression")
    for table in tables:
        assert f'id="{table}"' in html, table
    for setting in ("table1_box", "table1_sphere", "linear_dc0", "linear_dc1", "linear_dc1_tau"):
        assert (workdir / f"results/collapse/{setting}/seed0.json").is_file(), setting
    for page in PAGES:
        notebook = json.loads((workdir / f"reports/{page}.ipynb").read_text())
        outputs = [o for cell in notebook["cells"] for o in cell.get("outputs", [])]
        assert outputs and not [o for o in outputs if o["output_type"] == "error"], page
        assert not [o for o in outputs if o.get("name") == "stderr"], f"{page}: stderr shown"
    assert "runs_json = " not in html, "notebook inputs must be hidden"
    index = (workdir / "reports/index.html").read_text()
    assert "Our setting" in index and "base width 4" in index and "2 epochs" in index


def test_every_page_names_the_mlflow_runs_behind_it(workdir):
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sslbench")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    ids = {run.data.tags["stage"]: set() for run in runs}
    for run in runs:
        ids[run.data.tags["stage"]].add(run.info.run_id)
    pages = {page: (workdir / f"reports/{page}.html").read_text() for page in PAGES}
    sources = (("qscore", "interpret"), ("collapse", "collapse"), ("ifm", "suppression_readout"))
    for page, stage in sources:
        assert 'id="provenance"' in pages[page], page
        assert all(run_id in pages[page] for run_id in ids[stage]), (page, stage)
    assert all(run_id in pages["index"] for run_ids in ids.values() for run_id in run_ids)


def _chromium(browser: str, url: str, profile: Path) -> tuple[str, list[str]]:
    """The rendered DOM of ``url`` and the page's console messages."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
    ]
    result = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def _broken_images(dom: str, page: Path) -> list[str]:
    """<img> sources that are neither embedded data nor an existing file beside the page."""
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', dom)
    return [
        src
        for src in sources
        if not (src.startswith("data:image/") and len(src) > 100)
        and not (page.parent / src).is_file()
    ]


def test_report_renders_in_headless_chromium(workdir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; `make test` installs it")
        pytest.skip("chromium is not installed (make test installs it)")
    bad = tmp_path / "bad.html"  # the checks below must catch a broken page
    bad.write_text('<img src="missing.png"><script>console.error("boom")</script>')
    dom, console = _chromium(browser, bad.as_uri(), tmp_path / "profile")
    assert console and _broken_images(dom, bad) == ["missing.png"]

    index = workdir / "reports/index.html"
    dom, console = _chromium(browser, index.as_uri(), tmp_path / "profile")
    assert not console, console
    bodies = re.findall(r'id="claims-\d+".*?<tbody>(.*?)</tbody>', dom, re.S)
    assert len(bodies) == 5, "one claims table per paper"
    assert sum(body.count("<tr") for body in bodies) >= 30, "the claims must all be listed"
    # the tiny config is a smoke test: a banner on top, and no verdict counts
    assert 'id="smoke-test"' in dom and 'id="verdict-overview"' not in dom
    assert dom.index('id="smoke-test"') < dom.index('id="claims"'), "the banner on top"
    assert 'id="machine"' in dom and "bf16 ISA" in dom
    links = re.findall(r'<a href="([a-z]+\.html)"', dom)
    assert sorted(links) == sorted(f"{page}.html" for page in PAGES if page != "index")
    images, audits = 0, []
    for link in links:
        page = index.parent / link
        dom, console = _chromium(browser, page.as_uri(), tmp_path / "profile")
        assert not console, (link, console)
        assert 'id="claims"' in dom and "<tbody>" in dom, link
        assert 'id="smoke-test"' in dom and 'id="verdict-overview"' not in dom, link
        assert not _broken_images(dom, page), link
        images += dom.count("<img")
        audits += re.findall(r'data-panels-without-legend="(\d+)"', dom)
    assert images >= 8, "ROC/PR, compression, spectra, GradCAM, collapse and sweep figures"
    assert len(audits) >= 6 and set(audits) == {"0"}, "every figure panel: a legend or one series"


def test_every_rows_why_agrees_with_its_evidence(workdir, repo):
    """Over every claim row of the tiny run: a decided row gives no why, an undecided one
    gives one, and each why names what its evidence shows (a model that did not move or did
    not learn, a resolution with the test-set interval beside it, too few settings)."""
    from sslbench.config import layered_config
    from sslbench.paper_scale.render import claims_of_run

    config = layered_config([repo / "config/config.yaml", repo / ".test/config/test.yaml"])
    table = claims_of_run(config, workdir)
    assert len(table) >= 30
    agrees = {
        "did not move": "did not move",
        "did not learn": "did not learn",
        "beyond this run's resolution": "CI [",
        "settings (τ × regulariser)": "fewer than",
    }
    for _, row in table.iterrows():
        why, evidence = row["why inconclusive"], row["evidence"]
        assert bool(why) == (row["verdict"] == "inconclusive"), (row["id"], why)
        for said, shown in agrees.items():
            if said in why:
                assert shown in evidence, (row["id"], why, evidence)


def test_snakemake_report_holds_the_figures_by_category(workdir):
    result = snakemake(workdir, "--report", "reports/snakemake.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (workdir / "reports/snakemake.html").read_text()
    for category in ("Replication report", "GradCAM galleries"):
        assert category in html, category
    assert "index.html" in html, "the claims index, target of every page's '← all claims'"


def test_second_run_does_nothing(workdir):
    result = snakemake(workdir)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr
    assert planned_rules(result) == set()


REPORT_RULES = {"report_page", "report", "all"}
DOWNSTREAM_OF_EVALUATE = {"evaluate", "qscore", "representation", "interpret"} | REPORT_RULES


def test_editing_one_notebook_reruns_only_the_report(workdir):
    """The edit is undone afterwards, bytes and modification time, so that the tests sharing
    the pipeline's outputs do not depend on running before this one."""
    notebook = workdir / "workflow/notebooks/ifm.ipynb"
    original, stat = notebook.read_bytes(), notebook.stat()
    content = json.loads(original)
    content["cells"].append({"cell_type": "markdown", "id": "edit", "metadata": {}, "source": "x"})
    notebook.write_text(json.dumps(content))
    try:
        result = snakemake(workdir, "--dry-run")
    finally:
        notebook.write_bytes(original)
        os.utime(notebook, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert result.returncode == 0, result.stderr
    assert job_counts(result) == {"report_page": 1, "report": 1, "all": 1}
    assert re.search(r"output: reports/ifm\.html", result.stdout)


def test_changing_one_parameter_reruns_exactly_its_dependants(workdir):
    (workdir / "config/knn.yaml").write_text(
        "evaluation:\n  knn:\n    k: 7\n    temperature: 0.1\n"
    )
    result = snakemake(
        workdir, "--dry-run", configfiles=(".test/config/test.yaml", "config/knn.yaml")
    )
    assert result.returncode == 0, result.stderr
    assert planned_rules(result) == DOWNSTREAM_OF_EVALUATE

    (workdir / "config/tau.yaml").write_text(
        "methods:\n  simclr:\n    temperature: 0.5\n    projection_hidden_dim: 32\n"
        "    projection_dim: 16\n"
    )
    result = snakemake(
        workdir, "--dry-run", configfiles=(".test/config/test.yaml", "config/tau.yaml")
    )
    assert planned_rules(result) == {"pretrain", "finetune", "features"} | DOWNSTREAM_OF_EVALUATE
