"""AUROC / AUPRC of a quality score as a predictor of correct classification."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import auc

from sslbench.analysis.bootstrap import percentile_interval
from sslbench.analysis.prediction import (
    auroc_auprc,
    bootstrap_interval,
    paired_auroc_difference,
    roc_pr_curves,
)


def _pair_counting_auroc(score: np.ndarray, correct: np.ndarray) -> float:
    """P(score of a correct sample > score of an incorrect one), ties counting 1/2."""
    pos, neg = score[correct], score[~correct]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_auroc_auprc_by_hand() -> None:
    score = np.array([0.1, 0.4, 0.35, 0.8])
    correct = np.array([False, False, True, True])
    # pairs (pos, neg): (0.35, 0.1) win, (0.35, 0.4) loss, (0.8, 0.1) win, (0.8, 0.4) win
    # -> AUROC = 3/4
    # ranking by score: 0.8 (T), 0.4 (F), 0.35 (T), 0.1 (F); precision at each positive:
    # 1/1 at 0.8 and 2/3 at 0.35 -> AP = (1 + 2/3) / 2 = 5/6
    auroc, auprc = auroc_auprc(score, correct)
    assert auroc == pytest.approx(0.75)
    assert auroc == pytest.approx(_pair_counting_auroc(score, correct))
    assert auprc == pytest.approx(5.0 / 6.0)
    assert isinstance(auroc, float) and isinstance(auprc, float)


def test_auroc_auprc_with_ties() -> None:
    score = np.array([0.5, 0.5, 0.2])
    correct = np.array([True, False, False])
    # pairs: (0.5 vs 0.5) tie -> 1/2, (0.5 vs 0.2) win -> AUROC = 1.5 / 2 = 0.75
    # only threshold reaching the positive is 0.5: TP = 1, FP = 1 -> P = 1/2 at R = 1
    # -> AP = (1 - 0) * 1/2 = 0.5
    auroc, auprc = auroc_auprc(score, correct)
    assert auroc == pytest.approx(0.75)
    assert auprc == pytest.approx(0.5)


def test_positive_class_is_correct() -> None:
    # flipping the score mirrors AUROC; higher score must mean "correct"
    score = np.array([0.1, 0.4, 0.35, 0.8])
    correct = np.array([0, 0, 1, 1])  # 0/1 accepted
    auroc, _ = auroc_auprc(-score, correct)
    assert auroc == pytest.approx(0.25)
    # a perfect predictor
    assert auroc_auprc(np.array([0.0, 1.0, 2.0]), np.array([False, True, True])) == (1.0, 1.0)


def test_random_example_matches_pair_counting() -> None:
    rng = np.random.default_rng(0)
    score = np.round(rng.normal(size=60), 1)  # rounding creates ties
    correct = rng.random(60) < 0.6
    auroc, _ = auroc_auprc(score, correct)
    assert auroc == pytest.approx(_pair_counting_auroc(score, correct))


@pytest.mark.parametrize("correct", [np.ones(4, dtype=bool), np.zeros(4, dtype=bool)])
def test_single_class_raises(correct: np.ndarray) -> None:
    with pytest.raises(ValueError, match="single class"):
        auroc_auprc(np.arange(4.0), correct)
    with pytest.raises(ValueError, match="single class"):
        roc_pr_curves(np.arange(4.0), correct)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="same length"):
        auroc_auprc(np.arange(3.0), np.array([True, False]))
    with pytest.raises(ValueError, match="NaN"):
        auroc_auprc(np.array([0.0, np.nan]), np.array([True, False]))
    with pytest.raises(ValueError, match="boolean"):
        auroc_auprc(np.array([0.0, 1.0]), np.array([2, 0]))


def test_roc_pr_curves_consistent_with_areas() -> None:
    rng = np.random.default_rng(3)
    correct = rng.random(80) < 0.5
    score = correct + rng.normal(scale=1.0, size=80)
    curves = roc_pr_curves(score, correct)
    assert {"fpr", "tpr", "precision", "recall"} <= set(curves)
    auroc, auprc = auroc_auprc(score, correct)
    assert auc(curves["fpr"], curves["tpr"]) == pytest.approx(auroc)
    # average precision = sum_n (R_n - R_{n+1}) P_n over the (decreasing-recall) PR curve
    p, r = curves["precision"], curves["recall"]
    assert float(np.sum(-np.diff(r) * p[:-1])) == pytest.approx(auprc)
    assert curves["fpr"][0] == 0.0 and curves["tpr"][-1] == 1.0
    assert len(curves["precision"]) == len(curves["recall"])


# --- the AUROC bootstraps share one resampling loop (two copies before) ----------------------


def _imbalanced(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores and a correctness column with few misclassified samples, so that some resamples
    hold a single class and are skipped."""
    rng = np.random.default_rng(seed)
    correct = rng.random(n) > 0.93
    correct[:2] = [True, False]
    score = rng.normal(size=n) + correct
    return score, rng.normal(size=n), ~correct


def _former_bootstrap_interval(score, correct, n_samples, confidence, rng):
    """The loop bootstrap_interval had before the resampling moved to two_class_resamples."""
    n, values = score.shape[0], []
    for _ in range(n_samples):
        idx = rng.integers(0, n, n)
        if correct[idx].all() or not correct[idx].any():
            continue
        values.append(auroc_auprc(score[idx], correct[idx]))
    low, high = percentile_interval(np.asarray(values), confidence, axis=0)
    return {"auroc": (float(low[0]), float(high[0])), "auprc": (float(low[1]), float(high[1]))}


@pytest.mark.parametrize("seed", [0, 1])
def test_bootstrap_interval_draws_what_its_former_loop_drew(seed: int) -> None:
    score, _, correct = _imbalanced(seed)
    ours = bootstrap_interval(score, correct, 200, 0.9, np.random.default_rng(seed))
    former = _former_bootstrap_interval(score, correct, 200, 0.9, np.random.default_rng(seed))
    assert ours == former


@pytest.mark.parametrize("seed", [0, 1])
def test_paired_auroc_difference_against_a_constant_is_the_auroc_interval(seed: int) -> None:
    """A constant score has AUROC 1/2 on every resample, so the paired difference's interval is
    the AUROC interval shifted by 1/2: both intervals draw the same resamples."""
    score, _, correct = _imbalanced(seed)
    interval = bootstrap_interval(score, correct, 200, 0.9, np.random.default_rng(seed))["auroc"]
    point, (low, high) = paired_auroc_difference(
        score, np.zeros_like(score), correct, 200, 0.9, seed
    )
    assert point == pytest.approx(auroc_auprc(score, correct)[0] - 0.5)
    assert (low, high) == pytest.approx((interval[0] - 0.5, interval[1] - 0.5), abs=1e-12)
