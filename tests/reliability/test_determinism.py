"""The same config run twice on this CPU gives identical metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workflow_runner import BASELINE_ONLY, RUN_DIR, SHUFFLED_ORDER, copy_workflow, snakemake

pytestmark = pytest.mark.reliability


def _results(path: Path) -> dict:
    """A result JSON without the hash of the whole config, which differs by design here (the
    second run layers config/baseline_only.yaml over the same job parameters)."""
    result = json.loads(path.read_text())
    result["provenance"].pop("config_hash")
    return result


def test_same_config_twice_gives_identical_metrics(tiny_pipeline, tmp_path):
    again = copy_workflow(tmp_path / "again")
    assert snakemake(again, *SHUFFLED_ORDER, configfiles=BASELINE_ONLY).returncode == 0
    for name in ("eval.json", "qscore.json"):
        assert _results(again / RUN_DIR / name) == _results(tiny_pipeline / RUN_DIR / name)
    for name in ("predictions.csv", "scores.csv"):
        assert (again / RUN_DIR / name).read_bytes() == (
            tiny_pipeline / RUN_DIR / name
        ).read_bytes()
    history = [
        json.loads((w / RUN_DIR / "history.json").read_text()) for w in (again, tiny_pipeline)
    ]
    for a, b in zip(*history, strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {
            k: v for k, v in b.items() if k != "seconds"
        }
    for name in ("meta.json", "train/images.npy", "test/labels.npy"):
        path = f"data/trifeature/{name}"
        assert (again / path).read_bytes() == (tiny_pipeline / path).read_bytes()
