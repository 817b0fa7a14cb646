"""The interval statistics the report's verdicts read, computed in ``sslbench.analysis``:
Student-t and Pearson intervals (004's sweep), the values a t-interval would need to decide a
claim (issue 18), and pooled GradCAM IoU differences (001 Fig. 7)."""

import numpy as np
import pytest
from scipy import stats

from sslbench.analysis.bootstrap import hierarchical_bootstrap
from sslbench.analysis.intervals import (
    pearson_interval,
    seed_interval,
    values_to_decide,
    with_seed_spread,
)
from sslbench.analysis.miou import iou_contrast, pooled_iou, pooled_iou_difference


def test_seed_interval_is_the_student_t_interval_of_the_mean():
    values = np.array([0.1, 0.3, 0.2, 0.25])
    mean, (low, high) = seed_interval(values, 0.9)
    expected = stats.t.interval(0.9, 3, loc=values.mean(), scale=stats.sem(values))
    assert mean == pytest.approx(0.2125) and (low, high) == pytest.approx(expected)
    assert seed_interval(values) == seed_interval(values, 0.95)


def _t_interval_excludes(values, n, boundary):
    """Whether scipy's t-interval of n values with ``values``' mean and SD excludes
    ``boundary`` (independent of the module's half-width)."""
    sd = np.std(values, ddof=1)
    low, high = stats.t.interval(0.95, n - 1, loc=np.mean(values), scale=sd / np.sqrt(n))
    return not low <= boundary <= high


def test_with_seed_spread_is_the_hull_of_the_bootstrap_and_the_t_interval():
    values = [0.01, 0.06, 0.11]
    _, (t_low, t_high) = seed_interval(np.array(values), 0.95)
    assert t_low < 0.0 < t_high < 0.2
    assert with_seed_spread((0.0, 0.2), values, 0.95) == (t_low, 0.2)
    assert with_seed_spread((-1.0, 1.0), values, 0.95) == (-1.0, 1.0)
    # fewer than two defined per-seed values: the bootstrap interval alone
    assert with_seed_spread((0.0, 0.2), [0.05, float("nan")], 0.95) == (0.0, 0.2)
    assert with_seed_spread((0.0, 0.2), [0.05], 0.95) == (0.0, 0.2)


def test_three_seeds_cover_their_mean_only_with_the_t_interval():
    """Seeds whose statistic varies with training (SD 1) far more than with the test samples
    (SD 0.1 / √50): the two-level percentile interval of 3 seeds spans about their range and
    covers the mean of the seeds' distribution about 3 times in 4; widened to the Student-t
    interval it covers it at about its nominal 95 %."""
    rng = np.random.default_rng(0)
    trials, covered_bootstrap, covered_hull = 200, 0, 0
    for trial in range(trials):
        per_seed = [(rng.normal(rng.normal(0.0, 1.0), 0.1, 50),) for _ in range(3)]
        _, interval = hierarchical_bootstrap(per_seed, np.mean, 200, 0.95, trial)
        hull = with_seed_spread(interval, [a.mean() for (a,) in per_seed], 0.95)
        covered_bootstrap += interval[0] <= 0.0 <= interval[1]
        covered_hull += hull[0] <= 0.0 <= hull[1]
    assert covered_bootstrap / trials < 0.82
    assert covered_hull / trials > 0.9


def test_values_to_decide_is_the_smallest_n_whose_t_interval_excludes_the_boundary():
    """Seeds at +6.7, −10.6, −2.1 and +3 points against a 0.3-point minimal effect (IFM-like):
    the projection is the first n whose interval clears 0.003, and no smaller n does."""
    values = np.array([0.067, -0.106, -0.021, 0.03])
    n = values_to_decide(values, (0.003,), 0.95, 100_000)
    assert n is not None and n > values.size
    assert _t_interval_excludes(values, n, 0.003)
    assert not _t_interval_excludes(values, n - 1, 0.003)
    assert values_to_decide(2 * values, (0.003,), 0.95, 100_000) > n  # wider spread: more seeds


def test_values_to_decide_takes_the_nearest_boundary_and_a_limit():
    values = np.array([0.01, 0.03, 0.02])
    one = values_to_decide(values, (0.0,), 0.95, 1000)
    both = values_to_decide(values, (-0.0, 0.015), 0.95, 1000)  # an equivalence margin
    assert both > one
    assert values_to_decide(values, (0.02,), 0.95, 1000) is None  # the mean on the boundary
    assert values_to_decide(values, (0.019,), 0.95, 5) is None  # beyond the limit
    assert values_to_decide(np.array([0.5, 0.5]), (0.0,), 0.95, 10) == 2  # no spread
    with pytest.raises(ValueError, match="at least 2 values"):
        values_to_decide(np.array([0.5]), (0.0,), 0.95, 10)


def test_pearson_interval_is_nan_for_too_few_pairs_or_a_constant_column():
    x = np.arange(6.0)
    assert np.isnan(pearson_interval(x[:3], x[:3], 0.95)["r"])
    assert np.isnan(pearson_interval(x, np.ones(6), 0.95)["low"])
    result = pearson_interval(x, -2 * x + np.array([0, 0.1, 0, -0.1, 0, 0.1]), 0.95)
    assert result["n"] == 6 and result["low"] <= result["r"] <= result["high"] < 0


def _interp(core, correct):
    core = np.asarray(core, dtype=float)
    return {
        "iou_core": core.tolist(),
        "iou_spurious": (1 - core).tolist(),
        "core_area": [0.25] * core.size,
        "correct": correct,
    }


def test_pooled_iou_keeps_one_group_and_passes_over_skipped_analyses():
    runs = [_interp([0.9, 0.2, 0.8], [True, False, True]), {"skipped": "no masks"}]
    runs.append(_interp([0.7], [True]))
    np.testing.assert_allclose(pooled_iou(runs, "correct", "iou_core"), [0.9, 0.8, 0.7])
    np.testing.assert_allclose(pooled_iou(runs, "misclassified", "iou_core"), [0.2])
    assert pooled_iou(runs, None, "iou_core").size == 4
    assert pooled_iou([{"skipped": "no masks"}], None, "iou_core").size == 0


def test_iou_contrasts_and_their_interval():
    control = [_interp([0.9, 0.2, 0.8], [True, False, True])]
    treated = [_interp([0.5, 0.6], [True, True])]
    a, b = iou_contrast("core_vs_chance", control, [], "correct")
    np.testing.assert_allclose(a, [0.65, 0.55])
    assert b is None
    a, b = iou_contrast("correct_vs_misclassified", control, [], None)
    np.testing.assert_allclose(a, [0.9, 0.8])
    np.testing.assert_allclose(b, [0.2])
    a, b = iou_contrast("variants", control, treated, None)
    np.testing.assert_allclose(a, [0.5, 0.6])
    np.testing.assert_allclose(b, [0.9, 0.2, 0.8])
    pooled = pooled_iou_difference("variants", control, treated, None, 200, 0.95, 0)
    assert pooled["difference"] == pytest.approx(0.55 - 1.9 / 3)
    assert (pooled["n"], pooled["n_other"]) == (2, 3)
    assert pooled_iou_difference("variants", control, [], None, 200, 0.95, 0) is None


def test_pooled_iou_interval_holds_the_spread_between_seeds():
    """Three seeds whose core IoU beats chance by +0.02, +0.10 and +0.18 on 400 samples each:
    pooling the samples alone excludes 0, the seeds' own differences (Student-t over 3) do
    not; the variants comparison pairs each control with the treated model of its seed."""
    seeds = [_interp([0.25 + gain] * 400, [True] * 400) for gain in (0.02, 0.10, 0.18)]
    pooled = pooled_iou_difference("core_vs_chance", seeds, [], "correct", 200, 0.95, 0)
    np.testing.assert_allclose(pooled["per_seed"], [0.02, 0.10, 0.18], atol=1e-12)
    _, t_interval = seed_interval(np.array([0.02, 0.10, 0.18]), 0.95)
    assert pooled["interval"] == pytest.approx(t_interval)
    assert pooled["interval"][0] < 0.0 < pooled["difference"]
    variants = pooled_iou_difference("variants", seeds, seeds[::-1], None, 200, 0.95, 0)
    np.testing.assert_allclose(variants["per_seed"], [0.16, 0.0, -0.16], atol=1e-12)
