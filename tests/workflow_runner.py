"""Run the real Snakemake workflow in a temporary copy of the repository's workflow files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUN_DIR = Path("results/trifeature/simclr/seed0/pretrain-none")
BASELINE_ONLY = (".test/config/test.yaml", "config/baseline_only.yaml")
# Snakemake picks each job to start at random from the ready ones (an unseeded sample of one per
# scheduling round), so a test that passes only in one job order fails in some runs.
SHUFFLED_ORDER = ("--scheduler-subsample", "1")


def copy_workflow(dest: Path) -> Path:
    """Copy Snakefile, workflow/, config/ and the test configs (.test/) into ``dest`` (the
    package comes from the venv)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "config", ".test"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def snakemake(
    workdir: Path,
    *args: str,
    configfiles: tuple[str, ...] = (".test/config/test.yaml",),
    env: dict | None = None,
    wait: bool = True,
) -> subprocess.CompletedProcess | subprocess.Popen:
    """``snakemake --cores 2 --configfile …`` in ``workdir``; Popen when ``wait`` is False."""
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", *configfiles, *args]
    if not wait:
        return subprocess.Popen(
            cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=900)


def planned_rules(result: subprocess.CompletedProcess) -> set[str]:
    """Names of the rules Snakemake scheduled (or, in a dry run, would schedule)."""
    return set(re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, re.M))


def job_counts(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Snakemake's "Job stats" table (rule → number of jobs) from a (dry) run's output."""
    text = result.stdout + result.stderr
    table = text[text.index("Job stats:") :].split("total", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}
