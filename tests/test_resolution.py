"""A run's resolution limits what its accuracy claims can decide (claims.yaml ``resolution``,
sslbench.analysis.resolution): an effect below it reads "beyond this run's resolution" whatever
its test-set interval says; above it the rule decides as before. The smoke-test banner and
the blank "seeds disagree" of a one-seed report are checked here too."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml

from sslbench.analysis.resolution import accuracy_resolution
from sslbench.report.presentation import verdict_overview_html
from sslbench.report.seeds import UNSTABLE
from sslbench.report.tables import RunResult, claims_table
from sslbench.report.verdicts import INCONCLUSIVE, REPLICATED

N = 10_000


@pytest.fixture(scope="module")
def registry(repo):
    return yaml.safe_load((repo / "workflow" / "report" / "claims.yaml").read_text())


def test_one_seed_resolution_is_the_test_set_interval():
    found = accuracy_resolution([0.8], N, 0.95)
    assert found.value == pytest.approx(1.959964 * np.sqrt(0.8 * 0.2 / N), rel=1e-6)
    assert "one seed" in found.source and str(N) in found.source


def test_several_seeds_resolution_is_their_spread():
    found = accuracy_resolution([0.50, 0.52, 0.54], N, 0.95)
    assert found.value == pytest.approx(0.02)
    assert "3 seeds" in found.source


def test_resolution_needs_an_accuracy():
    with pytest.raises(ValueError, match="at least one accuracy"):
        accuracy_resolution([], N, 0.95)


def _runs(claim, effect, control_accuracies, metric="linear_probe_accuracy"):
    """The control and treated model of ``claim`` for one seed per control accuracy; the
    treated model is right on ``effect`` × N more test samples than the control."""
    runs = []
    for seed, accuracy in enumerate(control_accuracies):
        control = np.arange(N) < round(accuracy * N)
        treated = control.copy()
        treated[np.flatnonzero(~control)[: round(effect * N)]] = True
        group = f"d/simclr/seed{seed}"
        for variant, correct in ((claim["compare"]["control"], control),
                                 (claim["compare"]["treated"], treated)):  # fmt: skip
            scores = pd.DataFrame(
                {"correct": correct, "knn_correct": correct, "prediction": (~correct).astype(int)}
            )
            evaluation = {metric: float(correct.mean())}
            runs.append(
                RunResult(
                    f"{group}/{variant}", group, variant, {}, evaluation, [], scores, {}, {}, ""
                )
            )
    return runs


def _row(registry, repo, claim, runs):
    return claims_table(
        [claim], runs, config_dir=repo / "config", resolution=registry["resolution"]
    ).iloc[0]


def _claim(registry, claim_id="qscore-finetune-improves", **rule):
    claim = next(c for c in registry["claims"] if c["id"] == claim_id)
    return claim | {"rule": claim["rule"] | rule}


def test_an_effect_below_one_seeds_resolution_is_not_decided(registry, repo):
    """001's +0.26-point minimal effect on one seed of 10,000 test images (resolution 0.78
    points at 80 %): a clear +3-point interval still decides nothing, and the row names the
    resolution, where it came from and a paper config that can decide it."""
    claim = _claim(registry)
    row = _row(registry, repo, claim, _runs(claim, 0.03, [0.8]))
    assert row["verdict"] == INCONCLUSIVE
    why = row["why inconclusive"]
    assert why.startswith("beyond this run's resolution")
    assert "0.26 points" in why and "0.78 points" in why and "one seed" in why
    assert "config/paper/" in why
    assert "CI [" in row["evidence"], "the test-set interval stays in the evidence"
    without = claims_table([claim], _runs(claim, 0.03, [0.8])).iloc[0]
    assert without["verdict"] == REPLICATED, "the same data without the block decides"


def test_an_effect_above_the_resolution_is_decided(registry, repo):
    claim = _claim(registry, min_effect=0.01)
    row = _row(registry, repo, claim, _runs(claim, 0.03, [0.8]))
    assert row["verdict"] == REPLICATED and row["why inconclusive"] == ""


def test_a_planted_seed_spread_sets_the_resolution(registry, repo):
    """Three seeds whose controls spread by 2 points (SD): a 1-point minimal effect is below
    it, a 3-point one is not."""
    spread = [0.78, 0.80, 0.82]
    small = _claim(registry, min_effect=0.01)
    row = _row(registry, repo, small, _runs(small, 0.06, spread))
    assert row["verdict"] == INCONCLUSIVE
    assert "2.00 points" in row["why inconclusive"] and "3 seeds" in row["why inconclusive"]
    large = _claim(registry, min_effect=0.03)
    assert _row(registry, repo, large, _runs(large, 0.06, spread))["verdict"] == REPLICATED


def test_the_knn_claim_is_limited_by_the_knn_accuracy(registry, repo):
    claim = next(
        c for c in registry["claims"] if c.get("compare", {}).get("outcome") == "knn_correct"
    )
    runs = _runs(claim, 0.03, [0.8], metric="knn_accuracy")
    row = _row(registry, repo, claim, runs)
    assert row["verdict"] == INCONCLUSIVE and "resolution" in row["why inconclusive"]


def test_claims_on_other_outcomes_are_not_limited(registry, repo):
    """Confidence and |L_i| are not accuracies: the block does not apply to them."""
    claim = _claim(registry, "qscore-finetune-raises-confidence")
    runs = _runs(claim, 0.03, [0.8])
    runs = [replace(r, scores=r.scores.assign(confidence=r.scores["correct"] * 1.0)) for r in runs]
    assert _row(registry, repo, claim, runs)["verdict"] == REPLICATED


def _claims(paper_rows):
    rows = [
        {"paper": paper, "verdict": verdict, "seeds agree": agree}
        for paper, verdict, agree in paper_rows
    ]
    return pd.DataFrame(rows)


def test_seeds_disagree_is_blank_where_no_row_has_seeds():
    one_seed = verdict_overview_html(_claims([("001", REPLICATED, ""), ("002", REPLICATED, "")]))
    assert '<td class="num unstable-count"></td>' in one_seed
    assert '<td class="num unstable-count">0</td>' not in one_seed
    seeded = verdict_overview_html(
        _claims([("001", REPLICATED, UNSTABLE), ("001", REPLICATED, "stable"), ("002", "", "")])
    )
    counts = [c for c in seeded.split('unstable-count">')[1:]]
    assert [c.split("<")[0] for c in counts] == ["1", "", "1"], "001, 002, all papers"


def test_a_smoke_test_page_has_a_banner_and_no_counts(tmp_path):
    from sslbench.report.context import ReportContext

    claims = _claims([("001", REPLICATED, "")])
    ctx = ReportContext([], {}, pd.DataFrame(), {}, claims, pd.DataFrame(), smoke_test=True)
    assert ctx.overview_html(claims) == ""
    assert 'id="verdict-overview"' in replace(ctx, smoke_test=False).overview_html(claims)
