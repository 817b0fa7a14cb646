"""Verdicts over seeds (issue 18 part 4): the pooled interval holds the seed-to-seed spread
(two-level bootstrap, widened to the Student-t interval of the seeds' values), a claim's rows
are pooled per setting with every seed's verdict shown, and seeds that disagree mark the claim
unstable."""

import numpy as np
import pandas as pd
import pytest
import yaml

from sslbench.analysis.bootstrap import hierarchical_bootstrap, paired_mean_difference
from sslbench.analysis.intervals import values_to_decide
from sslbench.report.seeds import (
    MAX_PROJECTED,
    STABLE,
    TWO_LEVEL,
    UNANIMOUS,
    UNSTABLE,
    agreement,
    pooled_paired,
)
from sslbench.report.tables import RunResult, claims_table
from sslbench.report.verdicts import CONTRADICTED, INCONCLUSIVE, REPLICATED

N = 4000


def _difference(t, c):
    return float(t.mean() - c.mean())


def _pair(effect, n=N, rng=None):
    """Control correct on half the samples; treated right on ``effect`` × n more of them."""
    control = np.arange(n) % 2 == 0
    treated = control.copy()
    k = round(abs(effect) * n)
    if effect > 0:
        treated[np.flatnonzero(~control)[:k]] = True
    else:
        treated[np.flatnonzero(control)[:k]] = False
    return treated.astype(float), control.astype(float)


def test_one_seed_gives_the_paired_bootstrap_interval():
    pair = _pair(0.05)
    _, (low, high) = hierarchical_bootstrap([pair], _difference, 2000, 0.95, 0)
    _, (p_low, p_high) = paired_mean_difference(*pair, 2000, 0.95, 0)
    assert low == pytest.approx(p_low, abs=0.004) and high == pytest.approx(p_high, abs=0.004)


def test_the_interval_holds_the_spread_between_seeds():
    """Seeds at +8, −2 and +8 points: each seed's own interval is tight, the pooled one must
    reach below the −2 seed's level of evidence (it spans the seeds), unlike pooling the test
    samples alone."""
    per_seed = [_pair(0.08), _pair(-0.02), _pair(0.08)]
    point, (low, high) = hierarchical_bootstrap(per_seed, _difference, 2000, 0.95, 0)
    assert point == pytest.approx((0.08 - 0.02 + 0.08) / 3, abs=1e-3)
    assert low < 0.0 < 0.05 < high
    same = [_pair(0.05)] * 3
    _, (s_low, s_high) = hierarchical_bootstrap(same, _difference, 2000, 0.95, 0)
    _, (o_low, o_high) = paired_mean_difference(*_pair(0.05), 2000, 0.95, 0)
    assert s_high - s_low < o_high - o_low  # identical seeds: three times the samples


def test_seeds_that_agree_in_sign_but_spread_widely_leave_a_paired_claim_open(registry):
    """Three seeds above the minimal effect by +1, +6 and +11 points on 4,000 samples each:
    the two-level bootstrap alone spans about their range and would call it replicated; the
    Student-t interval of three values (t = 4.30) reaches below the minimal effect, so the claim
    stays open and names the seeds it would need. Seeds that agree closely still decide it."""
    claim = _improves_claim(registry)
    minimal = claim["rule"]["min_effect"]
    spread = [_pair(minimal + d) for d in (0.01, 0.06, 0.11)]
    _, (bootstrap_low, _) = hierarchical_bootstrap(spread, _difference, 1000, 0.95, 0)
    assert bootstrap_low > minimal
    result = pooled_paired(claim, spread)
    assert result["verdict"] == INCONCLUSIVE and "seeds would decide it" in result["why"]
    close = [_pair(minimal + d) for d in (0.05, 0.06, 0.07)]
    assert pooled_paired(claim, close)["verdict"] == REPLICATED


def test_undefined_draws_are_skipped_and_all_undefined_is_an_error():
    with pytest.raises(ValueError, match="undefined"):
        hierarchical_bootstrap([_pair(0.05)], lambda t, c: float("nan"), 10, 0.95, 0)


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [([REPLICATED], ""), ([REPLICATED] * 3, STABLE), ([REPLICATED, INCONCLUSIVE], UNSTABLE)],
)
def test_agreement(verdicts, expected):
    assert agreement(verdicts) == expected


@pytest.fixture(scope="module")
def registry(repo):
    return yaml.safe_load((repo / "workflow" / "report" / "claims.yaml").read_text())


def _runs(claim, effects):
    """pretrain-none (also the control) and the treated model of ``claim`` for one seed per
    effect; every treated model moved."""

    def run(variant, correct, seed):
        scores = pd.DataFrame({"correct": correct.astype(bool), "prediction": 1 - correct})
        group = f"d/simclr/seed{seed}"
        return RunResult(f"{group}/{variant}", group, variant, {}, {}, [], scores, {}, {}, "")

    runs = []
    for seed, effect in enumerate(effects):
        treated, control = _pair(effect)
        runs.append(run(claim["compare"]["control"], control, seed))
        runs.append(run(claim["compare"]["treated"], treated, seed))
    return runs


def _improves_claim(registry):
    return next(
        c
        for c in registry["claims"]
        if "compare" in c
        and c["rule"]["kind"] == "improves"
        and c["compare"]["control"] == "pretrain-none"
    )


def test_seeds_of_a_paired_claim_are_one_pooled_row(registry):
    claim = _improves_claim(registry)
    clear = claim["rule"]["min_effect"] + 0.06
    row = claims_table([claim], _runs(claim, [clear] * 3), movement=None).iloc[0]
    assert row["verdict"] == REPLICATED and row["seeds agree"] == STABLE
    assert row["why inconclusive"] == ""
    assert row["decided by"] == TWO_LEVEL and "seed0+seed1+seed2" in row["run"]
    assert row["per seed"].count(REPLICATED) == 3


def test_a_seed_that_reverses_the_effect_leaves_the_claim_unstable(registry):
    """Two seeds with a clear effect and one with its reverse: never "replicated"."""
    claim = _improves_claim(registry)
    clear = claim["rule"]["min_effect"] + 0.06
    row = claims_table([claim], _runs(claim, [clear, -clear, clear]), movement=None).iloc[0]
    assert row["verdict"] == INCONCLUSIVE and row["seeds agree"] == UNSTABLE
    assert CONTRADICTED in row["per seed"]
    needed = values_to_decide(
        np.array([clear, -clear, clear]), (claim["rule"]["min_effect"],), 0.95, MAX_PROJECTED
    )
    assert "interval contains" in row["why inconclusive"]
    assert f"≈ {needed:,} seeds would decide it" in row["why inconclusive"]


def test_an_undecided_row_says_when_more_seeds_would_not_help(registry):
    """Seeds that agree on a clear effect but whose test samples are too few for the pooled
    interval: the row asks for test samples, not seeds; a spread of opposite signs around the
    minimal effect asks for more seeds than the projection names."""
    claim = _improves_claim(registry)
    effect = claim["rule"]["min_effect"] + 0.015
    few = [_pair(effect, n=60) for _ in range(3)]
    result = pooled_paired(claim, few)
    assert result["verdict"] == INCONCLUSIVE
    assert "more test samples needed" in result["why"]
    flat = [_pair(claim["rule"]["min_effect"] + d) for d in (0.1, -0.1, 0.0)]
    assert f"more than {MAX_PROJECTED:,} seeds" in pooled_paired(claim, flat)["why"]


def _auroc_run(seed, auroc_shift, selected_auroc=None):
    """A run whose Q-Score predicts correctness with a planted strength."""
    rng = np.random.default_rng(seed)
    correct = rng.random(2000) < 0.5
    score = rng.normal(size=2000) + auroc_shift * correct
    summary = {
        "share_correct": float(correct.mean()),
        "metrics": {"q_score": {"auroc": 0.5, "auroc_ci": (0.4, 0.6)}},
    }
    if selected_auroc is not None:
        summary["selected"] = {
            "share_correct": 0.5,
            "metrics": {"q_score": {"auroc": selected_auroc, "auroc_ci": (0.0, 0.0)}},
            "epsilon": 1.0 + seed,
            "lower_percentile": 50.0,
            "upper_percentile": 95.0,
            "validation": {"auroc": 0.7},
        }
    scores = pd.DataFrame({"q_score": score, "correct": correct})
    group = f"d/simclr/seed{seed}"
    return RunResult(
        f"{group}/pretrain-none", group, "pretrain-none", summary, {}, [], scores, {}, {}, ""
    )


def _cheap(claim):
    return {**claim, "rule": {**claim["rule"], "bootstrap_samples": 300}}


def test_auroc_claims_pool_the_seeds_per_sample_data(registry):
    """A strong predictor in every seed is replicated over seeds; a chance-level one is not."""
    claim = _cheap(next(c for c in registry["claims"] if c["id"] == "qscore-v2-auroc"))
    strong = claims_table([claim], [_auroc_run(s, 1.5) for s in range(3)]).iloc[0]
    assert strong["verdict"] == REPLICATED and strong["ours"] > 0.8
    chance = claims_table([claim], [_auroc_run(s, 0.0) for s in range(3)]).iloc[0]
    assert chance["verdict"] != REPLICATED


def test_selected_epsilon_rows_need_every_seed(registry):
    """Each seed selects its own ε: the pooled verdict is the seeds' unanimous one."""
    claim = _cheap(next(c for c in registry["claims"] if c["id"] == "qscore-v2-auroc"))
    runs = [_auroc_run(s, 1.5, selected_auroc=0.8) for s in range(2)]
    runs.append(_auroc_run(2, 1.5, selected_auroc=0.5))
    for run in runs[:2]:
        run.summary["selected"]["metrics"]["q_score"]["auroc_ci"] = (0.75, 0.85)
    runs[2].summary["selected"]["metrics"]["q_score"]["auroc_ci"] = (0.45, 0.55)
    selected = claims_table([claim], runs).iloc[1]
    assert selected["decided by"] == UNANIMOUS and selected["seeds agree"] == UNSTABLE
    assert selected["verdict"] == INCONCLUSIVE and "ε = 3" in selected["run"]
    assert selected["why inconclusive"] == "the seeds disagree"


def test_rules_on_per_seed_points_show_each_seed_and_mark_disagreement():
    from sslbench.report.seeds import per_seed_points

    assert per_seed_points(["seed0"], [True]) == {"verdict": REPLICATED}
    mixed = per_seed_points(["seed0", "seed1", "seed2"], [True, False, None])
    assert mixed["verdict"] == INCONCLUSIVE and mixed["agreement"] == UNSTABLE
    assert mixed["seeds"] == "seed0 replicated; seed1 contradicted; seed2 inconclusive"
    assert mixed["why"] == "the seeds disagree"
    assert per_seed_points(["a", "b"], [False, False])["agreement"] == STABLE
    assert "why" not in per_seed_points(["a", "b"], [False, False])
    assert per_seed_points(["a", "b"], [None, None])["why"] == "every seed is undecided"
