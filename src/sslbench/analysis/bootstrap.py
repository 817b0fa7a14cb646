"""Percentile-bootstrap confidence intervals (Efron & Tibshirani 1993): the percentile interval,
the two-class resamples the AUROC/AUPRC intervals draw (:mod:`sslbench.analysis.prediction`),
and means and differences of means.

The report's verdicts compare these intervals with the claims' thresholds, so that a claim is
"replicated" only where the data leave no doubt and "inconclusive" where they do.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def percentile_interval(
    values: np.ndarray, confidence: float, axis: int | None = None
) -> np.ndarray:
    """Two-sided percentile interval of bootstrap ``values`` at ``confidence``: ``[low, high]``
    (each of the shape ``values`` has without ``axis``)."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    return np.percentile(values, [tail, 100.0 - tail], axis=axis)


def two_class_resamples(
    correct: np.ndarray, n_samples: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Indices of ``n_samples`` resamples (with replacement) of the samples of ``correct``, each
    drawn from ``rng`` in turn; those that hold a single class are drawn but not yielded
    (AUROC and AUPRC are undefined there)."""
    n = correct.size
    for _ in range(n_samples):
        idx = rng.integers(0, n, n)
        if correct[idx].all() or not correct[idx].any():
            continue
        yield idx


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
