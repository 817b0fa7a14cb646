"""Simple quality metrics of 000 §4 and the oriented registry of 000 Table 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sslbench.analysis import qscore
from sslbench.analysis.prediction import auroc_auprc
from sslbench.analysis.quality_metrics import (
    DEFAULT_SOFT_SPARSITY_ETA,
    QUALITY_METRICS,
    Metric,
    l1_norm,
    make_quality_metrics,
    mean,
    soft_sparsity,
    std,
    z_score_max,
)

H = np.array(
    [
        [0.0, 0.0, 3.0, 1.0],  # mu 1, sigma sqrt(1.5) (ddof=0), L1 4, max 3
        [1.0, 1.0, 1.0, 1.0],  # mu 1, sigma 0, L1 4
        [-2.0, 0.0, 0.0, 2.0],  # mu 0, sigma sqrt((4 + 0 + 0 + 4) / 4) = sqrt(2), L1 4
    ]
)


def test_mean_by_hand() -> None:
    np.testing.assert_allclose(mean(H), [1.0, 1.0, 0.0])


def test_std_is_population_std() -> None:
    # ddof=1 would give sqrt(6/3) = sqrt(2) for row 0; ddof=0 gives sqrt(6/4) = sqrt(1.5)
    np.testing.assert_allclose(std(H), [math.sqrt(1.5), 0.0, math.sqrt(2.0)])


def test_soft_sparsity_by_hand() -> None:
    # eta = 0.5: row 0 has {0, 0} < 0.5 -> 2/4; row 1 none -> 0; row 2 {-2, 0, 0} -> 3/4
    np.testing.assert_allclose(soft_sparsity(H, eta=0.5), [0.5, 0.0, 0.75])
    # strict "<": with eta = 1 the ones of row 1 do not count, row 0 still 2/4
    np.testing.assert_allclose(soft_sparsity(H, eta=1.0), [0.5, 0.0, 0.75])
    # eta = 1.5: row 0 adds the 1 -> 3/4, row 1 all four -> 1
    np.testing.assert_allclose(soft_sparsity(H, eta=1.5), [0.75, 1.0, 0.75])


def test_l1_norm_by_hand() -> None:
    np.testing.assert_allclose(l1_norm(H), [4.0, 4.0, 4.0])
    np.testing.assert_allclose(l1_norm(np.array([[-1.0, 2.0, -3.0]])), [6.0])


def test_z_score_max_by_hand() -> None:
    # row 0: (3 - 1) / sqrt(1.5); row 1: sigma = 0 -> 0; row 2: (2 - 0) / sqrt(2) = sqrt(2)
    np.testing.assert_allclose(z_score_max(H), [2.0 / math.sqrt(1.5), 0.0, math.sqrt(2.0)])


def test_q_score_v1_is_z_score_over_l1() -> None:
    rng = np.random.default_rng(1)
    h = np.abs(rng.normal(size=(20, 16)))
    np.testing.assert_allclose(qscore.q_score_v1(h), z_score_max(h) / l1_norm(h))


def test_registry_contents_and_orientation() -> None:
    expected = {
        "mean": False,
        "std": False,
        "soft_sparsity": True,
        "l1_norm": False,
        "z_score_max": True,
        "q_score_v1": True,
    }
    assert {k: m.higher_means_correct for k, m in QUALITY_METRICS.items()} == expected
    for name, metric in QUALITY_METRICS.items():
        assert isinstance(metric, Metric)
        assert metric.name == name
        assert metric.paper_label and metric.rationale
    assert QUALITY_METRICS["q_score_v1"].function is qscore.q_score_v1
    with pytest.raises(AttributeError):
        QUALITY_METRICS["mean"].higher_means_correct = True  # type: ignore[misc]


def test_oriented_negates_lower_is_better_metrics() -> None:
    np.testing.assert_allclose(QUALITY_METRICS["l1_norm"].oriented(H), -l1_norm(H))
    np.testing.assert_allclose(QUALITY_METRICS["z_score_max"].oriented(H), z_score_max(H))


def test_registry_soft_sparsity_eta() -> None:
    np.testing.assert_allclose(make_quality_metrics(eta=0.5)["soft_sparsity"](H), [0.5, 0.0, 0.75])
    np.testing.assert_allclose(
        QUALITY_METRICS["soft_sparsity"](H), soft_sparsity(H, DEFAULT_SOFT_SPARSITY_ETA)
    )


def _synthetic_population(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correct: sparse, non-negative, one large spike.  Incorrect: dense half-normal."""
    rng = np.random.default_rng(seed)
    n, r = 100, 64
    good = np.zeros((n, r))
    small = rng.random((n, r)) < 0.1
    good[small] = rng.uniform(0.0, 0.2, size=small.sum())
    good[np.arange(n), rng.integers(0, r, size=n)] = rng.uniform(2.5, 3.5, size=n)
    bad = np.abs(rng.normal(0.0, 1.0, size=(n, r)))
    h = np.vstack([good, bad])
    correct = np.r_[np.ones(n, dtype=bool), np.zeros(n, dtype=bool)]
    return h, correct


@pytest.mark.parametrize("name", sorted(QUALITY_METRICS))
def test_oriented_metrics_predict_correct_on_synthetic_data(name: str) -> None:
    h, correct = _synthetic_population()
    metric = QUALITY_METRICS[name]
    auroc_oriented, _ = auroc_auprc(metric.oriented(h), correct)
    auroc_raw, _ = auroc_auprc(metric(h), correct)
    assert auroc_oriented > 0.9
    # the orientation matters: the un-oriented score of a "lower is better" metric is
    # anti-correlated with correctness
    if not metric.higher_means_correct:
        assert auroc_raw < 0.1
    else:
        assert auroc_raw == pytest.approx(auroc_oriented)
