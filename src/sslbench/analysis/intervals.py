"""Parametric confidence intervals over a handful of encoders or seeds (scipy): the Student-t
interval of a mean and the interval of Pearson's r (Fisher transform).

004's feature-suppression verdicts compare these intervals with the claims' minimal effects
(:mod:`sslbench.report.suppression`); the percentile-bootstrap intervals over samples are in
:mod:`sslbench.analysis.bootstrap` and :mod:`sslbench.analysis.prediction`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def seed_interval(
    values: np.ndarray, confidence: float = 0.95
) -> tuple[float, tuple[float, float]]:
    """Mean and Student-t ``confidence`` interval of ``values`` (NaN interval for fewer than 2)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float(values.mean()), (float("nan"), float("nan"))
    low, high = stats.t.interval(
        confidence, values.size - 1, loc=values.mean(), scale=stats.sem(values)
    )
    return float(values.mean()), (float(low), float(high))


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
