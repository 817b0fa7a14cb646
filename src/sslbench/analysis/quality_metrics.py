"""Simple per-sample quality metrics of SSL representations (000 §4, Table 1).

Kalibhat et al., "Understanding Failure Modes of Self-Supervised Learning" (workshop
version, ``papers/000``) §4 defines five label-free metrics of a representation ``h_i``
and Table 1 reports how well each one separates correctly from incorrectly classified
samples (AUROC/AUPRC), together with the Q-Score of eq. (2)
(:func:`sslbench.analysis.qscore.q_score_v1`).

Every function maps ``(N, r)`` representations to an ``(N,)`` float64 array, works on
the raw ``h`` (000 does not normalise) and uses the population std (``ddof=0``).

:data:`QUALITY_METRICS` registers all six metrics of Table 1 with an orientation, so
``metric.oriented(h)`` is a score where *higher predicts a correct classification*;
feed it to :func:`sslbench.analysis.prediction.auroc_auprc`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from sslbench.analysis.qscore import _as_representations, _z_score_of_max, q_score_v1

__all__ = [
    "DEFAULT_SOFT_SPARSITY_ETA",
    "QUALITY_METRICS",
    "Metric",
    "l1_norm",
    "make_quality_metrics",
    "mean",
    "soft_sparsity",
    "std",
    "z_score_max",
]

#: eta of soft sparsity.  000 §4 only says ``0 < eta << 1``; 0.01 is our choice.
DEFAULT_SOFT_SPARSITY_ETA: float = 0.01


def mean(h: ArrayLike) -> np.ndarray:
    """Mean ``mu_i`` of every representation, 000 §4 "Mean (mu_i)"."""
    return _as_representations(h).mean(axis=1)


def std(h: ArrayLike) -> np.ndarray:
    """Population standard deviation ``sigma_i`` (``ddof=0``) of every representation,
    000 §4 "Standard Deviation (sigma_i)"."""
    return _as_representations(h).std(axis=1, ddof=0)


def soft_sparsity(h: ArrayLike, eta: float = DEFAULT_SOFT_SPARSITY_ETA) -> np.ndarray:
    """Fraction of features with ``h_ij < eta`` (strict), 000 §4 "Soft Sparsity".

    The paper states it as a percentage ("% of features in h_i that are < eta",
    ``0 < eta << 1``); this returns the fraction in ``[0, 1]`` (percentage / 100), which
    has the same ordering and hence the same AUROC/AUPRC.

    Args:
        h: ``(N, r)`` representations.
        eta: threshold (paper: unspecified, ``0 < eta << 1``).
    """
    return (_as_representations(h) < float(eta)).mean(axis=1)


def l1_norm(h: ArrayLike) -> np.ndarray:
    """``||h_i||_1 = sum_j |h_ij|`` of every representation, 000 §4 "L1 Norm"."""
    return np.abs(_as_representations(h)).sum(axis=1)


def z_score_max(h: ArrayLike) -> np.ndarray:
    """Z-score of the maximum feature, 000 §4: ``(max(h_i) - mu_i) / sigma_i``.

    Defined as 0 for a constant row (``sigma_i = 0``), whose maximum does not deviate
    from its mean.
    """
    return _z_score_of_max(_as_representations(h))


@dataclass(frozen=True)
class Metric:
    """A per-sample quality metric and its orientation.

    Attributes:
        name: registry key.
        function: ``(N, r) -> (N,)`` metric on raw representations.
        higher_means_correct: True if a higher raw value predicts a correct
            classification; otherwise :meth:`oriented` negates the metric.
        paper_label: row label of the metric in 000 Table 1.
        rationale: one line on why the orientation was chosen.
    """

    name: str
    function: Callable[[ArrayLike], np.ndarray]
    higher_means_correct: bool
    paper_label: str
    rationale: str

    def __call__(self, h: ArrayLike) -> np.ndarray:
        """Raw (un-oriented) metric values."""
        return np.asarray(self.function(h), dtype=np.float64)

    def oriented(self, h: ArrayLike) -> np.ndarray:
        """Metric values signed so that a higher value predicts a correct classification."""
        values = self(h)
        return values if self.higher_means_correct else -values


def make_quality_metrics(eta: float = DEFAULT_SOFT_SPARSITY_ETA) -> dict[str, Metric]:
    """Build the registry of the six 000 Table 1 metrics (soft sparsity with ``eta``)."""
    metrics = [
        Metric(
            "mean",
            mean,
            False,
            "mu_i (Mean)",
            "lower: for non-negative ReLU features mean = L1 / r, same ordering as L1 norm",
        ),
        Metric(
            "std",
            std,
            False,
            "sigma_i (Standard Deviation)",
            "lower: 000 Table 1 gives std the same AUROC as L1 for every model",
        ),
        Metric(
            "soft_sparsity",
            partial(soft_sparsity, eta=eta),
            True,
            "h_i (Sparsity)",
            "higher: sparse representations are the favourable property in 000 (§3, §5)",
        ),
        Metric(
            "l1_norm",
            l1_norm,
            False,
            "||h_i||_1 (L1 Norm)",
            "lower: 000 Fig. 5, lower L1 norm -> more likely correctly classified",
        ),
        Metric(
            "z_score_max",
            z_score_max,
            True,
            "(max(h_i) - mu_i) / sigma_i (Z-Score)",
            "higher: 000 Fig. 5, higher Z-score -> more likely correctly classified",
        ),
        Metric(
            "q_score_v1",
            q_score_v1,
            True,
            "SSL Q-Score",
            "higher: 000 §5 / Fig. 5, higher Q-Score -> more likely correctly classified",
        ),
    ]
    return {m.name: m for m in metrics}


#: The six metrics of 000 Table 1, keyed by name, with soft sparsity at the default eta.
QUALITY_METRICS: dict[str, Metric] = make_quality_metrics()
