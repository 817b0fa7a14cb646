"""Execution profiles dry-run the real workflow: the GPU switch is config + profile only."""

import re
import shutil

import pytest
from workflow_runner import REPO, copy_workflow, snakemake

pytestmark = pytest.mark.slow  # every test is a Snakemake dry run

# Jobs on the device: the network's, and the linear probes' (evaluate, qscore, representation).
DEVICE_RULES = {
    "pretrain",
    "finetune",
    "features",
    "suppression_pretrain",
    "suppression_readout",
    "evaluate",
    "qscore",
    "representation",
}


def _jobs(output: str) -> list[tuple[str, str]]:
    """(rule, text of its job block) of every job a dry run with --printshellcmds planned."""
    blocks = re.split(r"^\[[^\]]+\]\n", output, flags=re.M)
    return [(m.group(1), b) for b in blocks if (m := re.match(r"(?:local)?rule (\w+):", b))]


def test_gpu_profile_gives_each_device_job_one_gpu_and_cuda(tmp_path):
    work = copy_workflow(tmp_path / "work")
    shutil.copytree(REPO / "profiles", work / "profiles")
    result = snakemake(
        work,
        "--dry-run",
        "--printshellcmds",
        "--profile",
        "profiles/gpu",
        configfiles=("config/config.yaml", "config/gpu.yaml", ".test/config/test.yaml"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = _jobs(result.stdout)
    assert {rule for rule, _ in jobs} >= DEVICE_RULES | {"interpret", "collapse"}
    for rule, block in jobs:
        on_gpu = rule in DEVICE_RULES
        assert bool(re.search(r"resources: .*gpu=1\b", block)) == on_gpu, block
        assert ("--device cuda --mixed-precision on" in block) == on_gpu, block


def test_default_config_runs_device_jobs_on_any_device_without_gpu_requests(tmp_path):
    work = copy_workflow(tmp_path / "work")
    result = snakemake(work, "--dry-run", "--printshellcmds")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = _jobs(result.stdout)
    assert not [rule for rule, block in jobs if re.search(r"gpu=[1-9]", block)]
    assert all("--device auto" in block for rule, block in jobs if rule in DEVICE_RULES)
