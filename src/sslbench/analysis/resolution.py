"""A run's resolution for accuracy effects: the smallest difference in accuracy between two
trained models that the run can tell from noise.

With several seeds it is the seed-to-seed standard deviation of the control model's accuracy
(training noise, measured). With one seed training noise is not measured, and the resolution is
the half-width of the control accuracy's normal-approximation ``confidence`` interval over its
``n_test`` test samples, z · √(p (1 − p) / n): a second model trained apart from the first
differs from it by at least this much by test-set sampling alone, and training noise only adds
to it. A claim whose minimal effect lies below the resolution cannot be decided by the run,
whatever its interval says (:mod:`sslbench.report.tables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Resolution:
    """The resolution ``value`` (an accuracy difference, a fraction) and what measured it."""

    value: float
    source: str


def accuracy_resolution(accuracies: Sequence[float], n_test: int, confidence: float) -> Resolution:
    """Resolution of a run whose control model reached ``accuracies`` (one per seed) on
    ``n_test`` test samples: the seeds' standard deviation (ddof 1) for two or more seeds, else
    the test-set interval's half-width at ``confidence``."""
    values = np.asarray(accuracies, dtype=float)
    if values.size == 0 or n_test < 1:
        raise ValueError("accuracy_resolution needs at least one accuracy and one test sample")
    if values.size > 1:
        sd = float(values.std(ddof=1))
        return Resolution(sd, f"seed-to-seed SD of the control's accuracy over {values.size} seeds")
    p = float(values[0])
    z = float(stats.norm.ppf((1.0 + confidence) / 2.0))
    half = z * float(np.sqrt(p * (1.0 - p) / n_test))
    return Resolution(
        half,
        f"one seed: {confidence:.0%} test-set interval of the control's accuracy "
        f"({n_test} samples; training noise unmeasured)",
    )
