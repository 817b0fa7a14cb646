"""Percentile-bootstrap confidence intervals (Efron & Tibshirani 1993): the percentile interval,
the two-class resamples the AUROC/AUPRC intervals draw (:mod:`sslbench.analysis.prediction`),
means and differences of means, and the two-level (seeds, then samples) interval of a
statistic averaged over seeds.

The report's verdicts compare these intervals with the claims' thresholds, so that a claim is
"replicated" only where the data leave no doubt and "inconclusive" where they do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

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


def hierarchical_bootstrap(
    per_seed: Sequence[tuple[np.ndarray, ...]],
    statistic: Callable[..., float],
    n_samples: int,
    confidence: float,
    seed: int,
) -> tuple[float, tuple[float, float]]:
    """Mean over seeds of ``statistic`` (of one seed's arrays, all indexed by the same test
    samples) with a two-level percentile-bootstrap interval (Davison & Hinkley 1997, §3.8;
    Saravanan et al. 2020): each draw resamples the seeds with replacement, then the samples of
    every drawn seed, and averages the statistic over the drawn seeds. The interval thus holds
    the seed-to-seed spread of training as well as the test samples' noise; draws whose
    statistic is undefined (NaN, e.g. an AUROC of one class) are skipped."""
    rng = np.random.default_rng(seed)
    point = float(np.mean([statistic(*arrays) for arrays in per_seed]))
    draws = []
    for _ in range(n_samples):
        values = []
        for s in rng.integers(0, len(per_seed), len(per_seed)):
            arrays = per_seed[s]
            idx = rng.integers(0, arrays[0].size, arrays[0].size)
            values.append(statistic(*(a[idx] for a in arrays)))
        draws.append(np.mean(values))
    draws_arr = np.asarray(draws, dtype=float)
    draws_arr = draws_arr[np.isfinite(draws_arr)]
    if not draws_arr.size:
        raise ValueError("bootstrap: the statistic was undefined in every resample")
    low, high = percentile_interval(draws_arr, confidence)
    return point, (float(low), float(high))
