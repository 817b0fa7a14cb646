"""Parametric confidence intervals over a handful of encoders or seeds (scipy): the Student-t
interval of a mean, its hull with a bootstrap interval over test samples, the number of values
such an interval would need to decide a claim, and the interval of Pearson's r (Fisher
transform).

004's feature-suppression verdicts compare these intervals with the claims' minimal effects
(:mod:`sslbench.report.suppression`); the percentile-bootstrap intervals over samples are in
:mod:`sslbench.analysis.bootstrap` and :mod:`sslbench.analysis.prediction`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats


def t_half_width(sd: float, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """Half-width t_{(1+c)/2, n−1} · sd / √n of the Student-t ``confidence`` interval of the
    mean of ``n`` values whose sample standard deviation is ``sd``."""
    n = np.asarray(n, dtype=float)
    return stats.t.ppf((1.0 + confidence) / 2.0, n - 1.0) * sd / np.sqrt(n)


def seed_interval(
    values: np.ndarray, confidence: float = 0.95
) -> tuple[float, tuple[float, float]]:
    """Mean and Student-t ``confidence`` interval of ``values`` (NaN interval for fewer than 2)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return mean, (float("nan"), float("nan"))
    half = float(t_half_width(float(values.std(ddof=1)), values.size, confidence))
    return mean, (mean - half, mean + half)


def with_seed_spread(
    interval: tuple[float, float], per_seed: Sequence[float], confidence: float
) -> tuple[float, float]:
    """The hull of a bootstrap ``interval`` of a mean over seeds and the Student-t
    ``confidence`` interval of the per-seed values ``per_seed`` (:func:`seed_interval`; NaN
    values, e.g. an AUROC undefined on one seed, dropped); ``interval`` itself for fewer than 2
    values.

    Why both: a percentile bootstrap that resamples k seeds spans at most their range, and the
    range of 3 draws misses the median of their distribution with probability 2 · 2⁻³ = 25 % —
    a nominal 95 % interval that covers ≈ 75 % at the seed level. The Student-t interval
    (t₀.₉₇₅,₂ = 4.30) covers the seed level at its nominal rate, but every seed is read on the
    same test samples, whose shared noise its spread does not hold; the bootstrap's sample
    level does. The hull is conservative in both."""
    values = np.asarray(per_seed, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return interval
    _, (low, high) = seed_interval(values, confidence)
    return min(interval[0], low), max(interval[1], high)


def values_to_decide(
    values: np.ndarray, boundaries: tuple[float, ...], confidence: float, limit: int
) -> int | None:
    """How many values (seeds, encoders) a Student-t interval of their mean would need to
    exclude every decision boundary of a rule, were their mean and standard deviation those of
    ``values``: the smallest n ≥ 2 with t_{(1+c)/2, n−1} · s / √n < min_b |x̄ − b| — the usual
    sample-size projection, which reaches the boundary with the observed effect and spread.
    None when more than ``limit`` would be needed (or the mean sits on a boundary)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        raise ValueError(f"values_to_decide: a spread needs at least 2 values, got {values.size}")
    distance = min(abs(float(values.mean()) - b) for b in boundaries)
    n = np.arange(2, limit + 1)
    enough = n[t_half_width(float(values.std(ddof=1)), n, confidence) < distance]
    return int(enough[0]) if enough.size else None


def pearson_interval(x: np.ndarray, y: np.ndarray, confidence: float) -> dict[str, float]:
    """Pearson r of ``x`` and ``y`` with its ``confidence`` interval (``r``, ``low``, ``high``,
    ``n``); NaN for fewer than 4 pairs or a constant column."""
    if x.size < 4 or np.std(x) == 0 or np.std(y) == 0:
        return {"r": float("nan"), "low": float("nan"), "high": float("nan"), "n": int(x.size)}
    result = stats.pearsonr(x, y)
    ci = result.confidence_interval(confidence)
    return {
        "r": float(result.statistic),
        "low": float(ci.low),
        "high": float(ci.high),
        "n": int(x.size),
    }
