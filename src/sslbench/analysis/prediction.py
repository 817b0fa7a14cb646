"""Quality scores as zero-shot predictors of correct classification.

000 Table 1 / Fig. 4 and 001 Fig. 4 report, for each quality score, the AUROC and the
AUPRC of predicting whether a sample is *correctly* classified by the linear probe
(positive class = correct) from the score alone (higher score = predicted correct).

AUPRC is scikit-learn's average precision (``average_precision_score``, the step-wise sum
``sum_n (R_n - R_{n-1}) P_n`` over distinct thresholds), not a trapezoidal area under the PR
curve; the papers do not say which estimator they use. AUROC is the Mann-Whitney statistic
with mid-ranks for ties, which equals ``roc_auc_score``'s trapezoidal area. Both are computed
here from one sort (tests check them against scikit-learn to round-off): the bootstrap calls
them thousands of times per model, where scikit-learn's input validation cost 10 ms a call.

Their percentile-bootstrap intervals (:func:`bootstrap_interval`, the paired
:func:`paired_auroc_difference`) resample the samples and skip resamples with a single class;
:func:`predictor_table` gives every score's AUROC and AUPRC with intervals (stage ``qscore``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import rankdata
from sklearn.metrics import precision_recall_curve, roc_curve

from sslbench.analysis.bootstrap import percentile_interval, two_class_resamples

__all__ = [
    "NOT_COMPUTABLE",
    "auroc_auprc",
    "bootstrap_interval",
    "changed_share",
    "paired_auroc_difference",
    "predictor_stats",
    "predictor_table",
    "roc_pr_curves",
    "single_class",
]


def _validate(score: ArrayLike, correct: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(score float64 (N,), correct bool (N,))`` or raise ``ValueError``."""
    s = np.asarray(score, dtype=np.float64)
    c_raw = np.asarray(correct)
    if s.ndim != 1 or c_raw.ndim != 1:
        raise ValueError(f"score and correct must be 1-D, got shapes {s.shape} and {c_raw.shape}")
    if s.shape != c_raw.shape:
        raise ValueError(
            f"score and correct must have the same length, got {s.size} and {c_raw.size}"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError("score contains NaN or inf")
    if c_raw.dtype != bool:
        if not np.all(np.isin(c_raw, (0, 1))):
            raise ValueError("correct must be boolean (or 0/1)")
        c_raw = c_raw.astype(bool)
    reason = single_class(c_raw)
    if reason is not None:
        raise ValueError(reason)
    return s, c_raw


def single_class(correct: np.ndarray) -> str | None:
    """Why AUROC/AUPRC cannot be computed when ``correct`` (bool) holds a single class (every
    sample correctly or every sample incorrectly classified), else None."""
    n_correct = int(correct.sum())
    if 0 < n_correct < correct.size:
        return None
    only = "correct (True)" if n_correct else "incorrect (False)"
    return (
        f"correct contains a single class: all {correct.size} samples are {only}; AUROC/AUPRC "
        "need both correctly and incorrectly classified samples"
    )


def auroc_auprc(score: ArrayLike, correct: ArrayLike) -> tuple[float, float]:
    """AUROC and AUPRC of ``score`` as a predictor of ``correct``.

    Args:
        score: ``(N,)`` oriented quality score (higher = predicted correct), e.g.
            :meth:`sslbench.analysis.quality_metrics.Metric.oriented` or
            :func:`sslbench.analysis.qscore.q_score`.
        correct: ``(N,)`` bool (or 0/1), True where the probe classified the sample
            correctly; True is the positive class.

    Returns:
        ``(auroc, auprc)``: the values of ``sklearn.metrics.roc_auc_score`` and
        ``sklearn.metrics.average_precision_score`` (see module docstring).

    Raises:
        ValueError: if ``correct`` holds a single class, if the shapes disagree, or if
            ``score`` is not finite.
    """
    s, c = _validate(score, correct)
    return _auroc(s, c), _average_precision(s, c)


def _auroc(s: np.ndarray, c: np.ndarray) -> float:
    """Mann-Whitney U / (n₊ n₋) with mid-ranks: P(score₊ > score₋) + ½ P(tie)."""
    n_pos = int(c.sum())
    n_neg = c.size - n_pos
    rank_sum = float(rankdata(s)[c].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def _average_precision(s: np.ndarray, c: np.ndarray) -> float:
    """Σ_n (R_n − R_{n−1}) P_n over the distinct thresholds, highest score first."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, c_sorted = s[order], c[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted)), s.size - 1]
    true_pos = np.cumsum(c_sorted)[last_of_tie]
    precision = true_pos / (last_of_tie + 1.0)
    recall_step = np.diff(true_pos, prepend=0) / true_pos[-1]
    return float(np.sum(recall_step * precision))


def roc_pr_curves(score: ArrayLike, correct: ArrayLike) -> dict[str, np.ndarray]:
    """ROC and precision-recall curves of ``score`` predicting ``correct`` (for plotting).

    Args:
        score: ``(N,)`` oriented quality score (higher = predicted correct).
        correct: ``(N,)`` bool (or 0/1); True is the positive class.

    Returns:
        dict with ``fpr``, ``tpr``, ``roc_thresholds`` (``sklearn.metrics.roc_curve``)
        and ``precision``, ``recall``, ``pr_thresholds``
        (``sklearn.metrics.precision_recall_curve``; the last precision/recall pair is
        sklearn's ``(1, 0)`` end point, which has no threshold).

    Raises:
        ValueError: as :func:`auroc_auprc`.
    """
    s, c = _validate(score, correct)
    fpr, tpr, roc_thr = roc_curve(c, s)
    precision, recall, pr_thr = precision_recall_curve(c, s)
    return {
        "fpr": fpr,
        "tpr": tpr,
        "roc_thresholds": roc_thr,
        "precision": precision,
        "recall": recall,
        "pr_thresholds": pr_thr,
    }


def changed_share(predictions: ArrayLike, reference: ArrayLike) -> float:
    """Share of samples whose predicted label differs between two models on the same test set
    (issue 17: a treated model whose predictions barely changed from the model it started from
    "did not move", and a claim about it cannot be decided)."""
    a, b = np.asarray(predictions), np.asarray(reference)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"predictions must be non-empty 1-D arrays of one shape: {a.shape}, {b.shape}"
        )
    return float(np.mean(a != b))


def bootstrap_interval(
    score: np.ndarray,
    correct: np.ndarray,
    n_samples: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, tuple[float, float]]:
    """Two-sided ``confidence`` intervals of AUROC and AUPRC over ``n_samples`` resamples.

    Resamples that contain a single class are skipped (AUROC is undefined there).
    """
    values = [
        auroc_auprc(score[idx], correct[idx])
        for idx in two_class_resamples(correct, n_samples, rng)
    ]
    if not values:
        raise ValueError("bootstrap: every resample had a single class")
    low, high = percentile_interval(np.asarray(values), confidence, axis=0)
    return {"auroc": (float(low[0]), float(high[0])), "auprc": (float(low[1]), float(high[1]))}


def paired_auroc_difference(
    score: np.ndarray,
    other: np.ndarray,
    correct: np.ndarray,
    n_samples: int,
    confidence: float,
    seed: int,
) -> tuple[float, tuple[float, float]]:
    """AUROC(score) − AUROC(other) as predictors of the same ``correct`` column, with a paired
    percentile-bootstrap interval (one resample of the samples for both scores; single-class
    resamples skipped)."""
    rng = np.random.default_rng(seed)
    diffs = [
        auroc_auprc(score[idx], correct[idx])[0] - auroc_auprc(other[idx], correct[idx])[0]
        for idx in two_class_resamples(correct, n_samples, rng)
    ]
    if not diffs:
        raise ValueError("bootstrap: every resample had a single class")
    low, high = percentile_interval(np.asarray(diffs), confidence)
    point = auroc_auprc(score, correct)[0] - auroc_auprc(other, correct)[0]
    return float(point), (float(low), float(high))


def predictor_stats(
    score: np.ndarray, correct: np.ndarray, cfg: dict[str, Any], seed: int
) -> dict[str, Any]:
    """AUROC and AUPRC of one score predicting ``correct``, with bootstrap intervals."""
    auroc, auprc = auroc_auprc(score, correct)
    ci = bootstrap_interval(
        score, correct, cfg["bootstrap_samples"], cfg["confidence"], np.random.default_rng(seed)
    )
    return {"auroc": auroc, "auprc": auprc, "auroc_ci": ci["auroc"], "auprc_ci": ci["auprc"]}


#: A score's entry where AUROC/AUPRC are not computable (one class of ``correct``).
NOT_COMPUTABLE = {"auroc": None, "auprc": None, "auroc_ci": None, "auprc_ci": None}


def predictor_table(
    scores: pd.DataFrame, correct: np.ndarray, cfg: dict[str, Any], seed: int
) -> dict[str, dict[str, Any]]:
    """AUROC / AUPRC of every score predicting ``correct``, with bootstrap intervals; all None
    (not computable) when every test sample is correct, or every one misclassified."""
    if single_class(correct) is not None:
        return {name: dict(NOT_COMPUTABLE) for name in scores.columns}
    return {
        name: predictor_stats(scores[name].to_numpy(), correct, cfg, seed)
        for name in scores.columns
    }
