"""The paper-scale configs (config/paper/, config/feature_suppression.yaml) validate and plan the
DAG each paper's main setting needs: a dry run here, with the job count of every rule checked.
So do the CPU-scale configs layered over the default (cifar10_cpu, replication_cpu)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from workflow_runner import REPO, copy_workflow, job_counts, snakemake

from sslbench.report.presentation import _needed as needed

ANALYSES = ("features", "evaluate", "qscore", "representation", "interpret")
REPORT = {"report_page": 4, "report": 1, "all": 1}


def per_model(models: int) -> dict[str, int]:
    return dict.fromkeys(ANALYSES, models)


CASES = {
    # 8 methods × (baseline + 001's fine-tunes none / Lasso / Q-Score) on ImageNet-100, and
    # 000's protocol (none / Q-Score v1) for SimCLR
    "001_imagenet100": (
        ("config/paper/001_imagenet100.yaml",),
        {"prepare_dataset": 1, "pretrain": 8, "finetune": 26} | per_model(34) | REPORT,
    ),
    "001_cifar10": (
        ("config/paper/001_imagenet100.yaml", "config/paper/001_cifar10.yaml"),
        {"prepare_dataset": 1, "pretrain": 8, "finetune": 26} | per_model(34) | REPORT,
    ),
    # 3 seeds × (plain, per-dimension τ, no ℓ2 norm, both) + 002's 5 settings × 3 seeds
    "002_cifar10": (
        ("config/paper/002_cifar10.yaml",),
        {"prepare_dataset": 1, "pretrain": 12, "collapse": 15} | per_model(12) | REPORT,
    ),
    # 3 datasets × (MLP head, SparseHead, identity head, linear head)
    "003_sparsehead": (
        ("config/paper/003_sparsehead.yaml",),
        {"prepare_dataset": 3, "pretrain": 12} | per_model(12) | REPORT,
    ),
    # 2 datasets × (plain, IFM at ε 0.05, 0.1, 0.2) + the Trifeature sweep: 3 τ × 2 × 3 seeds
    "004_ifm": (
        ("config/feature_suppression.yaml", "config/paper/004_ifm.yaml"),
        {"prepare_dataset": 3, "pretrain": 8, "suppression_pretrain": 18}
        | {"suppression_readout": 18}
        | per_model(8)
        | REPORT,
    ),
}


@pytest.mark.slow  # a Snakemake dry run
@pytest.mark.parametrize("case", sorted(CASES))
def test_paper_config_dry_runs_with_the_expected_jobs(case, tmp_path):
    files, expected = CASES[case]
    work = copy_workflow(tmp_path / "work")
    imagenet = tmp_path / "imagenet100"
    for split in ("train", "test"):
        (imagenet / split / "n01749939").mkdir(parents=True)
    (work / "config/local.yaml").write_text(
        f"datasets:\n  imagenet100:\n    source: imagefolder\n    target: class\n"
        f"    path: {imagenet}\n    image_size: 224\n"
    )
    layered = ("config/config.yaml", *files)
    if "001_imagenet100" in case or "001_cifar10" in case:
        layered += ("config/local.yaml",)
    result = snakemake(work, "--dry-run", configfiles=layered)
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result) == expected


def test_every_paper_config_is_covered():
    configs = {
        p.stem for p in (Path(__file__).resolve().parents[1] / "config/paper").glob("*.yaml")
    }
    assert configs == set(CASES)


@pytest.mark.slow  # two Snakemake dry runs
def test_cpu_scale_cifar10_config_adds_one_model_family_to_the_default(tmp_path):
    # config/cifar10_cpu.yaml on any ImageFolder tree (here an empty stand-in for
    # ../shared/datasets/cifar10): the default's jobs plus CIFAR-10's baseline, its three
    # fine-tunes under 001's protocol, its two under 000's and their analyses.
    work = copy_workflow(tmp_path / "work")
    folder = tmp_path / "cifar10"
    for split in ("train", "test"):
        (folder / split / "airplane").mkdir(parents=True)
    (work / "config/local.yaml").write_text(f"datasets:\n  cifar10:\n    path: {folder}\n")
    default = job_counts(snakemake(work, "--dry-run", configfiles=("config/config.yaml",)))
    result = snakemake(
        work,
        "--dry-run",
        configfiles=("config/config.yaml", "config/cifar10_cpu.yaml", "config/local.yaml"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    added = {"prepare_dataset": 1, "pretrain": 1, "finetune": 5} | per_model(6)
    assert job_counts(result) == {
        rule: default.get(rule, 0) + added.get(rule, 0) for rule in default | added
    }


@pytest.mark.slow  # a Snakemake dry run
def test_replication_config_runs_every_claim_family_on_three_seeds(tmp_path):
    # config/replication_cpu.yaml (issue 18): the 15 models per seed (baseline, 9 from-scratch
    # regularisers, 001's three fine-tunes and 000's two) on seeds 0-2, 002's 5 settings × 3
    # seeds and 004's 3 τ × 4 regularisers × 3 seeds; every claim's models are in the DAG.
    work = copy_workflow(tmp_path / "work")
    result = snakemake(
        work, "--dry-run", configfiles=("config/config.yaml", "config/replication_cpu.yaml")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result) == (
        {"prepare_dataset": 1, "pretrain": 30, "finetune": 15, "collapse": 15}
        | {"suppression_pretrain": 36, "suppression_readout": 36}
        | per_model(45)
        | REPORT
    )
    text = result.stdout + result.stderr
    models = set(re.findall(r"results/trifeature/simclr/seed(\d+)/([a-z0-9_]+-[a-z0-9_]+)/", text))
    seeds = {"0", "1", "2"}
    produced = {v for v in {v for _, v in models} if {(s, v) for s in seeds} <= models}
    produced |= {f"collapse:{s}" for s in re.findall(r"results/collapse/(\w+)/seed2\.json", text)}
    settings = set(re.findall(r"results/suppression/trifeature/tau([0-9.]+)/(\w+)/seed2/", text))
    if len(settings) >= 10:  # what 004's loss-vs-error correlations are decided over
        produced.add("suppression")
    registry = yaml.safe_load((REPO / "workflow/report/claims.yaml").read_text())
    missing = {
        claim["id"]: sorted(needed(claim) - produced)
        for claim in registry["claims"]
        if "pending" not in claim and not needed(claim) <= produced
    }
    assert not missing, missing
