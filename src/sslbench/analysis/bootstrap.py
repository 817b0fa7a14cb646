"""Percentile-bootstrap confidence intervals (Efron & Tibshirani 1993) for AUROC and AUPRC and
for means and differences of means.

The report's verdicts compare these intervals with the claims' thresholds, so that a claim is
"replicated" only where the data leave no doubt and "inconclusive" where they do.
"""

from __future__ import annotations

import numpy as np

from sslbench.analysis.prediction import auroc_auprc


def percentile_interval(
    values: np.ndarray, confidence: float, axis: int | None = None
) -> np.ndarray:
    """Two-sided percentile interval of bootstrap ``values`` at ``confidence``: ``[low, high]``
    (each of the shape ``values`` has without ``axis``)."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    return np.percentile(values, [tail, 100.0 - tail], axis=axis)


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
    n = score.shape[0]
    values = []
    for _ in range(n_samples):
        idx = rng.integers(0, n, n)
        if correct[idx].all() or not correct[idx].any():
            continue
        values.append(auroc_auprc(score[idx], correct[idx]))
    if not values:
        raise ValueError("bootstrap: every resample had a single class")
    low, high = percentile_interval(np.asarray(values), confidence, axis=0)
    return {"auroc": (float(low[0]), float(high[0])), "auprc": (float(low[1]), float(high[1]))}


def bootstrap_mean_difference(
    a: np.ndarray, b: np.ndarray | None, n_samples: int, confidence: float, seed: int
) -> tuple[float, tuple[float, float]]:
    """mean(a) − mean(b) (or mean(a) if ``b`` is None) with a percentile-bootstrap interval,
    each sample resampled independently."""
    rng = np.random.default_rng(seed)
    means_a = a[rng.integers(0, a.size, (n_samples, a.size))].mean(axis=1)
    means_b = 0.0 if b is None else b[rng.integers(0, b.size, (n_samples, b.size))].mean(axis=1)
    low, high = percentile_interval(means_a - means_b, confidence)
    point = a.mean() - (0.0 if b is None else b.mean())
    return float(point), (float(low), float(high))


def paired_mean_difference(
    treated: np.ndarray, control: np.ndarray, n_samples: int, confidence: float, seed: int
) -> tuple[float, tuple[float, float]]:
    """mean(treated) − mean(control) of two per-sample columns on the same samples (correctness,
    confidence, ...), with a paired percentile-bootstrap interval (both resampled with the same
    indices)."""
    treated, control = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, treated.size, (n_samples, treated.size))
    diffs = treated[idx].mean(axis=1) - control[idx].mean(axis=1)
    low, high = percentile_interval(diffs, confidence)
    return float(treated.mean() - control.mean()), (float(low), float(high))


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
    n, diffs = correct.size, []
    for _ in range(n_samples):
        idx = rng.integers(0, n, n)
        if correct[idx].all() or not correct[idx].any():
            continue
        diffs.append(
            auroc_auprc(score[idx], correct[idx])[0] - auroc_auprc(other[idx], correct[idx])[0]
        )
    if not diffs:
        raise ValueError("bootstrap: every resample had a single class")
    low, high = percentile_interval(np.asarray(diffs), confidence)
    point = auroc_auprc(score, correct)[0] - auroc_auprc(other, correct)[0]
    return float(point), (float(low), float(high))
