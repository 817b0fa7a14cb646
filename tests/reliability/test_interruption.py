"""A pretraining job killed with SIGKILL mid-epoch resumes from its last complete checkpoint and
ends with exactly the metrics of an uninterrupted run; a non-finite loss stops the job with a
message naming method, epoch and step, keeping the last good checkpoint."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from workflow_runner import BASELINE_ONLY, RUN_DIR, SHUFFLED_ORDER, copy_workflow, snakemake

pytestmark = pytest.mark.reliability

LONGER = "pretrain:\n  epochs: 6\n"
OUTPUTS = ("history.json", "eval.json", "qscore.json", "predictions.csv", "scores.csv")


def _pretrain_pid(work: Path) -> int | None:
    """The pretraining job's Python process running in ``work`` (not the shell that Snakemake
    wraps it in: killing only the shell would leave Python training on as an orphan)."""
    out = subprocess.run(["pgrep", "-f", "sslbench.cli pretrain"], capture_output=True, text=True)
    for pid in map(int, out.stdout.split()):
        try:
            in_work = Path(f"/proc/{pid}/cwd").resolve() == work.resolve()
            if in_work and Path(f"/proc/{pid}/comm").read_text().startswith("python"):
                return pid
        except OSError:
            continue
    return None


def _results(work: Path) -> dict[str, object]:
    results = {}
    for name in OUTPUTS:
        text = (work / RUN_DIR / name).read_text()
        results[name] = json.loads(text) if name.endswith(".json") else text
    for record in results["history.json"]:
        record.pop("seconds")  # wall time is the one thing allowed to differ
    return results


def test_killed_pretraining_resumes_to_identical_metrics(tmp_path):
    reference = copy_workflow(tmp_path / "reference")
    (reference / "config/longer.yaml").write_text(LONGER)
    files = (*BASELINE_ONLY, "config/longer.yaml")
    assert snakemake(reference, *SHUFFLED_ORDER, configfiles=files).returncode == 0

    work = copy_workflow(tmp_path / "killed")
    (work / "config/longer.yaml").write_text(LONGER)
    proc = snakemake(work, *SHUFFLED_ORDER, configfiles=files, wait=False)
    checkpoints = work / RUN_DIR / "checkpoints"
    deadline = time.monotonic() + 600
    while not list(checkpoints.glob("epoch_0002.pt")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.02)
    pid = _pretrain_pid(work)
    assert pid is not None, "the pretraining job should still be running"
    os.kill(pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert _pretrain_pid(work) is None, "no pretraining process may survive the kill"
    assert not (work / RUN_DIR / "model.pt").exists()
    kept = sorted(checkpoints.glob("epoch_*.pt"))
    assert kept and kept[-1].name >= "epoch_0002.pt"
    for checkpoint in kept:  # a save cut short stays a hidden .tmp, never a complete-looking file
        assert torch.load(checkpoint, weights_only=True)["epoch"] >= 1

    rerun = snakemake(work, *SHUFFLED_ORDER, configfiles=files)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    log = (work / "logs/pretrain/trifeature/simclr/seed0/none.log").read_text()
    assert re.search(r"resuming from \S+epoch_000[2-6]\.pt", log), log[-2000:]
    assert not list((work / RUN_DIR).rglob("*.tmp")), "the rerun removes partly written files"
    assert _results(work) == _results(reference)


def test_non_finite_loss_stops_the_job_with_a_clear_message(tmp_path):
    work = copy_workflow(tmp_path / "nan")
    (work / "config/explode.yaml").write_text(
        "pretrain:\n  epochs: 3\n  optimizer:\n    warmup_epochs: 0\n"
        "methods:\n  simclr:\n    optimizer: {name: sgd, lr: 1.0e+30, weight_decay: 0.0}\n"
    )
    result = snakemake(work, *SHUFFLED_ORDER, configfiles=(*BASELINE_ONLY, "config/explode.yaml"))
    assert result.returncode != 0
    failed = re.findall(r"^Error in rule (\w+):.*?^\s+log: (\S+)", result.stderr, re.M | re.S)
    assert failed == [("pretrain", "logs/pretrain/trifeature/simclr/seed0/none.log")], failed
    log = (work / failed[0][1]).read_text()
    assert re.search(r"method simclr, regulariser none: loss is (nan|inf)", log), log[-2000:]
    assert "at epoch" in log and "step" in log
    assert not (work / RUN_DIR / "model.pt").exists()
