"""The same config run twice on this CPU gives identical metrics."""

from __future__ import annotations

import json

import pytest
from workflow_runner import BASELINE_ONLY, RUN_DIR, SHUFFLED_ORDER, copy_workflow, snakemake

pytestmark = pytest.mark.reliability


def test_same_config_twice_gives_identical_metrics(tiny_pipeline, tmp_path):
    again = copy_workflow(tmp_path / "again")
    assert snakemake(again, *SHUFFLED_ORDER, configfiles=BASELINE_ONLY).returncode == 0
    for name in ("eval.json", "qscore.json", "predictions.csv", "scores.csv"):
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
