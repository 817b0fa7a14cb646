"""config/baseline_only.yaml must switch off every regularised run that any config file of the
repository defines: run tables are dicts, which Snakemake merges key by key, so a run name it
does not clear (as `ifm_eps005` once) trains beside the baseline and job order decides which
job a reliability test sees first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from workflow_runner import BASELINE_ONLY, REPO, copy_workflow, job_counts, snakemake

from sslbench.config import RUN_TABLES

TABLES = tuple((block, "runs") for block in RUN_TABLES)


def _run_names(path: Path) -> dict[tuple[str, str], set[str]]:
    config = yaml.safe_load(path.read_text()) or {}
    return {(block, key): set((config.get(block) or {}).get(key) or {}) for block, key in TABLES}


def test_baseline_only_clears_every_run_any_config_defines():
    cleared = yaml.safe_load((REPO / "config/baseline_only.yaml").read_text())
    for path in sorted((REPO / "config").rglob("*.yaml")):
        for (block, key), names in _run_names(path).items():
            for name in names:
                assert cleared[block][key].get(name) == [], (
                    f"{path.relative_to(REPO)} defines {block}.{key}.{name}, which "
                    "config/baseline_only.yaml does not clear"
                )


@pytest.mark.slow  # a Snakemake dry run
def test_baseline_only_dag_trains_only_the_baseline(tmp_path):
    work = copy_workflow(tmp_path / "dry")
    result = snakemake(work, "-n", configfiles=BASELINE_ONLY)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result)
    assert counts.get("pretrain") == 1, counts
    assert not {"finetune", "suppression_pretrain", "collapse"} & set(counts), counts
