"""000 Fig. 6's class-wise claim ("the most improvement in the classes of lowest accuracy") on
planted outcomes: gains in the weakest classes, gains in the strongest, no effect, and the
regression to the mean that grouping and measuring on the same samples would report."""

import numpy as np
import pandas as pd
import pytest
import yaml

from sslbench.analysis.classwise import accuracy_groups, group_gains, lowest_group_gain_gap
from sslbench.report.classwise import GAIN_GAP, LOWEST_GAIN, held_out_arrays, open_statements_why
from sslbench.report.seeds import TWO_LEVEL
from sslbench.report.tables import RunResult, claims_table
from sslbench.report.verdicts import CONTRADICTED, INCONCLUSIVE, REPLICATED

N_CLASSES, PER_CLASS = 9, 400
#: the control's per-class accuracy: three clearly separated thirds
ACCURACY = np.repeat([0.3, 0.55, 0.8], 3)


def test_groups_cut_classes_by_increasing_accuracy():
    groups = accuracy_groups(np.array([0.9, 0.1, 0.5, 0.2, 0.7, 0.3, 0.8, 0.4, 0.6, 0.0]), 3)
    assert groups.tolist() == [2, 0, 1, 0, 2, 0, 2, 1, 1, 0]  # 10 classes: 4, 3, 3


def test_group_gains_and_gap():
    labels = np.array([0, 0, 1, 1, 2, 2])
    treated = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    control = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    groups = np.array([0, 1, 2])
    assert group_gains(labels, treated, control, groups).tolist() == [1.0, 0.5, -0.5]
    assert lowest_group_gain_gap(labels, treated, control, groups) == pytest.approx(1.0)
    assert np.isnan(lowest_group_gain_gap(labels[:4], treated[:4], control[:4], groups))


def _correct(accuracy, rng):
    labels = np.repeat(np.arange(N_CLASSES), PER_CLASS)
    return labels, rng.random(labels.size) < accuracy[labels]


def _run(variant, labels, correct, seed=0):
    group = f"d/simclr/seed{seed}"
    predictions = pd.DataFrame({"label": labels, "correct": correct})
    scores = pd.DataFrame({"correct": correct, "prediction": np.where(correct, labels, -1)})
    return RunResult(
        f"{group}/{variant}", group, variant, {}, {}, [], scores, {}, {}, "", (), predictions
    )


@pytest.fixture(scope="module")
def claim(repo):
    registry = yaml.safe_load((repo / "workflow/report/claims.yaml").read_text())
    found = next(
        c for c in registry["claims"] if c["id"] == "qscore-v1-reg-improves-weakest-classes"
    )
    return {**found, "rule": {**found["rule"], "bootstrap_samples": 300}}


def _verdict(claim, gain_by_third, seeds=(0,)):
    runs = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        labels, control = _correct(ACCURACY, rng)
        labels, treated = _correct(ACCURACY + np.repeat(gain_by_third, 3), rng)
        runs += [
            _run(claim["compare"]["control"], labels, control, seed),
            _run(claim["compare"]["treated"], labels, treated, seed),
        ]
    return claims_table([claim], runs).iloc[0]


def test_gains_in_the_weakest_third_replicate(claim):
    assert _verdict(claim, [0.2, 0.05, 0.0])["verdict"] == REPLICATED


def test_gains_in_the_strongest_third_contradict(claim):
    assert _verdict(claim, [0.0, 0.05, 0.2])["verdict"] == CONTRADICTED


def test_a_model_that_loses_least_in_its_weakest_classes_does_not_improve_them(claim):
    """Every third loses accuracy, the weakest least (a collapsing model): the weakest third
    gains more than the others, but it does not improve: contradicted, not replicated."""
    assert _verdict(claim, [-0.2, -0.3, -0.4])["verdict"] == CONTRADICTED


def test_no_effect_is_rarely_replicated(claim):
    """Over 100 effect-free pairs, the rule reads "replicated" about as often as its one-sided
    2.5 % (percentile bootstrap: a little more) — never as a rule."""
    verdicts = [_verdict(claim, [0.0, 0.0, 0.0], seeds=(seed,))["verdict"] for seed in range(100)]
    assert verdicts.count(REPLICATED) <= 8 and verdicts.count(INCONCLUSIVE) >= 85


def test_seeds_pool_into_one_row(claim):
    row = _verdict(claim, [0.2, 0.05, 0.0], seeds=(0, 1, 2))
    assert row["verdict"] == REPLICATED and row["per seed"].count("seed") == 3
    assert row["decided by"] == TWO_LEVEL


def test_an_open_row_over_seeds_says_which_statement_is_open_and_how_many_seeds_would_decide(
    claim,
):
    """No effect over three seeds: the row is open and says, of the statement(s) left open, how
    far the seeds' mean lies from the minimal effect and how many seeds would decide it; a
    statement already decided is not named."""
    row = _verdict(claim, [0.0, 0.0, 0.0], seeds=(0, 1, 2))
    assert row["verdict"] == INCONCLUSIVE
    assert (
        row["why inconclusive"].startswith(LOWEST_GAIN)
        and "over 3 seeds" in row["why inconclusive"]
    )
    rule = claim["rule"]
    statements = {LOWEST_GAIN: ((-0.01, 0.05), [0.0, 0.03, 0.02]), GAIN_GAP: ((0.2, 0.3), [0.25])}
    why = open_statements_why(statements, rule)
    assert why.startswith(f"{LOWEST_GAIN}: its 95 % interval contains") and GAIN_GAP not in why
    statements[GAIN_GAP] = ((-0.1, 0.3), [0.0, 0.2, 0.1])
    assert f"; {GAIN_GAP}: its 95 % interval" in open_statements_why(statements, rule)


def test_groups_cut_on_held_out_samples_show_no_regression_to_the_mean(claim):
    """Independent draws of one model whose classes are all equally good: grouping on the
    measured samples themselves finds, on average, a "gain" in the weakest third (classes that
    scored low by chance); the claim's held-out grouping finds none."""
    flat = np.full(N_CLASSES, 0.5)
    in_sample, held_out = [], []
    for draw in range(100):
        rng = np.random.default_rng(draw)
        labels, control = _correct(flat, rng)
        _, treated = _correct(flat, rng)
        accuracy = np.array([control[labels == c].mean() for c in range(N_CLASSES)])
        groups = accuracy_groups(accuracy, 3)
        in_sample.append(lowest_group_gain_gap(labels, treated * 1.0, control * 1.0, groups))
        t, c, y, g = held_out_arrays(
            _run("t", labels, treated), _run("c", labels, control), claim["classwise"], N_CLASSES
        )
        sample_groups = np.zeros(N_CLASSES, dtype=int)
        sample_groups[y] = g
        held_out.append(lowest_group_gain_gap(y, t, c, sample_groups))
    standard_error = np.std(held_out) / np.sqrt(len(held_out))
    assert np.mean(in_sample) > 4 * standard_error  # regression to the mean, if grouped in-sample
    assert abs(np.mean(held_out)) < 3 * standard_error


def test_a_class_missing_from_the_measured_half_is_not_computable(claim):
    rng = np.random.default_rng(0)
    labels, control = _correct(ACCURACY, rng)
    keep = labels != 4  # class 4 has no test sample at all
    runs = [
        _run(claim["compare"]["control"], labels[keep], control[keep]),
        _run(claim["compare"]["treated"], labels[keep], control[keep]),
    ]
    row = claims_table([claim], runs).iloc[0]
    assert row["verdict"] == INCONCLUSIVE and "not computable" in row["evidence"]
