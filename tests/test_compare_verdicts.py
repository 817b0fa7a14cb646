"""scripts/compare_verdicts.py reads the claims tables the report prints (presentation.claims_html)
and matches rows across seed sets: seed names and per-seed selected ε do not split a claim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import compare_verdicts  # noqa: E402
import readme_figures  # noqa: E402

from sslbench.report.presentation import claims_html  # noqa: E402


def _run(tmp_path: Path, name: str, seeds: str, verdicts: list[str], epsilon: str) -> Path:
    claims = pd.DataFrame(
        {
            "paper": ["001", "001", "004"],
            "where": ["Fig. 4", "Fig. 4", "Fig. 6"],
            "claim": ["Q-Score predicts", "Q-Score predicts", "IFM <improves> & more"],
            "run": [
                f"t/simclr/{seeds}/pretrain-none",
                f"t/simclr/{seeds}/pretrain-none at selected ε = {epsilon}, window 50–95",
                "004 feature-suppression sweep",
            ],
            "ours": [0.6, 0.7, 0.01],
            "verdict": verdicts,
        }
    )
    run = tmp_path / name
    (run / "reports").mkdir(parents=True)
    cell = {"outputs": [{"data": {"text/html": [claims_html(claims)]}}]}
    (run / "reports" / "index.ipynb").write_text(json.dumps({"cells": [cell]}))
    return run


def test_rows_match_across_seed_sets_and_changes_are_listed(tmp_path: Path, capsys) -> None:
    a = _run(
        tmp_path, "a", "seed0+seed1+seed2", ["replicated", "inconclusive", "contradicted"], "1"
    )
    b = _run(tmp_path, "b", "seed3+seed4+seed5", ["replicated", "replicated", "inconclusive"], "2")
    rows = compare_verdicts.claim_rows(compare_verdicts.notebook_html(a))
    assert rows[2]["claim"] == "IFM <improves> & more"  # HTML entities decoded
    result = compare_verdicts.compare(
        rows, compare_verdicts.claim_rows(compare_verdicts.notebook_html(b))
    )
    assert (result["shared"], result["decided"], result["agree"]) == (3, 3, 1)
    assert not result["only_a"] and not result["only_b"]
    compare_verdicts.main([str(a), str(b), "--changed"])
    out = capsys.readouterr().out
    assert "3 decided in at least one: 1 agree (33.3 %)" in out
    assert "t/simclr/seeds/pretrain-none at the selected ε | inconclusive → replicated" in out


def test_a_snapshot_keeps_each_rows_verdict_for_a_later_comparison(tmp_path: Path, capsys) -> None:
    """A replication snapshot's ``verdicts`` compare as its run directory does; a snapshot
    without them stops with a sentence naming the file."""
    a = _run(
        tmp_path, "a", "seed0+seed1+seed2", ["replicated", "inconclusive", "contradicted"], "1"
    )
    b = _run(tmp_path, "b", "seed3+seed4+seed5", ["replicated", "replicated", "inconclusive"], "2")
    snapshot = tmp_path / "a.json"
    snapshot.write_text(json.dumps({"verdicts": readme_figures.claim_verdicts(a)}))
    assert compare_verdicts.verdict_rows(snapshot) == [
        {k: row[k] for k in readme_figures.VERDICT_KEYS} for row in compare_verdicts.verdict_rows(a)
    ]
    compare_verdicts.main([str(snapshot), str(b)])
    assert "3 decided in at least one: 1 agree (33.3 %)" in capsys.readouterr().out
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"kind": "replication"}))
    with pytest.raises(SystemExit, match="old.json: no 'verdicts'"):
        compare_verdicts.verdict_rows(old)
