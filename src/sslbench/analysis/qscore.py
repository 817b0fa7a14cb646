"""Q-Score: sample-wise quality of self-supervised representations.

Two versions of the score are implemented, one per paper:

* **Q-Score v2** (:func:`q_score`) -- Kalibhat et al., "Measuring Self-Supervised
  Representation Quality for Downstream Classification using Discriminative Features",
  AAAI 2024 (``papers/001``), eq. (1).  It is built from the *highly activating set*
  ``L_i`` of every sample, the per-feature *activation percentage* ``A_j`` and the set
  of *discriminative features* ``D`` (features whose ``A_j`` lies between the 50th and
  95th percentile of ``A``).
* **Q-Score v1** (:func:`q_score_v1`) -- Kalibhat et al., "Understanding Failure Modes of
  Self-Supervised Learning", workshop version (``papers/000``), eq. (2):
  ``Z-Score(max h_i) / ||h_i||_1``.

Conventions shared by every function here:

* ``h`` is an ``(N, r)`` array (N samples, r features); it is converted to float64.
* ``mu_i`` and ``sigma_i`` are the mean and the *population* standard deviation
  (``ddof=0``) of the row ``h_i``; the papers do not say which estimator is used, and
  ``ddof=0`` matches ``torch.std(unbiased=False)`` / ``np.std`` defaults.
* Degenerate rows never produce NaN/inf: the value that would be undefined is set to 0
  and each function documents where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DiscriminativeSpec",
    "activation_percentage",
    "discriminative_features",
    "discriminative_from_config",
    "empty_intersection",
    "highly_activating",
    "l2_normalise",
    "q_score",
    "q_score_v1",
]


@dataclass(frozen=True)
class DiscriminativeSpec:
    """What defines 001's discriminative features ``D``: ``epsilon`` of the highly activating
    sets ``L_i`` (001: "We use eps = 4") and the percentile window of ``A`` (001: "between the
    50th and the 95th percentile"). No defaults here: the values live in config only
    (``analysis.qscore`` for the analysis, ``regularisers.qscore`` for the regulariser)."""

    epsilon: float
    lower_percentile: float
    upper_percentile: float
    exclude_inactive: bool = False  # optional in regularisers.qscore: absent = false

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> DiscriminativeSpec:
        """The spec of a config block (its other keys are ignored)."""
        return cls(
            cfg["epsilon"],
            cfg["lower_percentile"],
            cfg["upper_percentile"],
            cfg.get("exclude_inactive", False),
        )


def _as_representations(h: ArrayLike) -> np.ndarray:
    """Return ``h`` as a finite float64 ``(N, r)`` array or raise ``ValueError``."""
    arr = np.asarray(h, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"representations must be a 2-D (N, r) array, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError("representations must have at least one feature (r >= 1)")
    if not np.all(np.isfinite(arr)):
        raise ValueError("representations contain NaN or inf")
    return arr


def _row_mean_std(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean ``mu_i`` and population standard deviation ``sigma_i`` (``ddof=0``)."""
    return h.mean(axis=1), h.std(axis=1, ddof=0)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Element-wise ``num / den`` with the result defined as 0 wherever ``den == 0``."""
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _z_score_of_max(h: np.ndarray) -> np.ndarray:
    """``(max(h_i) - mu_i) / sigma_i`` per row (000 §4); 0 where ``sigma_i = 0``.

    ``sigma_i = 0`` means the row is constant, so its maximum does not deviate from
    the mean at all and 0 is the natural limit.  Shared by :func:`q_score_v1` and
    :func:`sslbench.analysis.quality_metrics.z_score_max`.
    """
    mu, sigma = _row_mean_std(h)
    return _safe_divide(h.max(axis=1) - mu, sigma)


def l2_normalise(h: ArrayLike) -> np.ndarray:
    """L2-normalise every representation (row) of ``h``.

    001 §"Discriminative Features": "In all our analysis, we perform L2 normalization
    over every h to ensure fair comparison of features."

    Args:
        h: ``(N, r)`` representations.

    Returns:
        float64 ``(N, r)`` array with ``||h_i||_2 = 1`` for every non-zero row.  An
        all-zero row has no direction and is returned unchanged (all zeros) instead of
        NaN.
    """
    arr = _as_representations(h)
    norms = np.linalg.norm(arr, ord=2, axis=1, keepdims=True)
    return _safe_divide(arr, norms)


def highly_activating(h: ArrayLike, epsilon: float) -> np.ndarray:
    """Boolean mask of the highly activating set ``L_i`` of every sample.

    001 §"Discriminative Features" / §"Q-Score":
    ``L_i := {j : h_ij > mu_i + epsilon * sigma_i}`` (strict inequality), computed on the
    L2-normalised ``h`` (:func:`l2_normalise`) with ``mu_i``, ``sigma_i`` the mean and
    population std (``ddof=0``) of the normalised row.  Because the rule is invariant to a
    positive rescaling of a row, normalising does not change ``L_i``; it is done anyway so
    that every quantity here is computed on the same array, as in the paper.

    A constant (including all-zero) row has ``sigma_i = 0`` and no entry strictly above
    its mean, so its ``L_i`` is empty.

    Args:
        h: ``(N, r)`` representations (raw; normalised internally).
        epsilon: deviation threshold in units of ``sigma_i`` (paper: 4).

    Returns:
        bool ``(N, r)`` array, ``True`` at ``(i, j)`` iff ``j in L_i``.
    """
    hn = l2_normalise(h)
    mu, sigma = _row_mean_std(hn)
    return hn > (mu + float(epsilon) * sigma)[:, None]


def activation_percentage(h: ArrayLike, epsilon: float) -> np.ndarray:
    """Percentage of samples for which each feature is highly activating.

    001 §"Discriminative Features": ``A_j = 100 / N * sum_i 1[j in L_i]`` with ``L_i``
    from :func:`highly_activating` (L2-normalised ``h``).

    Args:
        h: ``(N, r)`` representations of the population (the paper uses the train set).
        epsilon: threshold of ``L_i`` (paper: 4).

    Returns:
        float64 ``(r,)`` array of percentages in ``[0, 100]``.
    """
    mask = highly_activating(h, epsilon)
    if mask.shape[0] == 0:
        raise ValueError("activation percentage needs at least one sample (N >= 1)")
    return 100.0 * mask.mean(axis=0)


def discriminative_features(
    activation_pct: ArrayLike,
    lower_percentile: float,
    upper_percentile: float,
    exclude_inactive: bool = False,
) -> np.ndarray:
    """Indices of the discriminative features ``D``.

    001 §"Discriminative Features": "we select the discriminative features between the
    50th and the 95th percentile of A".  Here
    ``D = {j : P_lower(A) <= A_j <= P_upper(A)}`` where ``P_q(A)`` is
    ``np.percentile(A, q)`` (numpy's default linear interpolation).  **Both bounds are
    inclusive**; the paper does not say, and with ``A_j`` taking few distinct values
    (multiples of ``100 / N``) the lower percentile often equals an attained value.

    Args:
        activation_pct: ``(r,)`` activation percentages from :func:`activation_percentage`.
        lower_percentile: lower percentile of ``A`` (paper: 50).
        upper_percentile: upper percentile of ``A`` (paper: 95).
        exclude_inactive: when True, features that are never highly activating (``A_j = 0``)
            are not discriminative and the percentiles are taken over the active features
            only. 001's window assumes most features activate somewhere (its Fig. 1); where
            more than half never do, ``P_50(A) = 0`` and the paper's window would call every
            never-active feature "discriminative" (the lower tail, which 001 excludes).

    Returns:
        Sorted int64 array of feature indices ``j`` in ``D``.
    """
    a = np.asarray(activation_pct, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"activation_pct must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("activation_pct contains NaN or inf")
    if not 0.0 <= lower_percentile <= upper_percentile <= 100.0:
        raise ValueError(
            "need 0 <= lower_percentile <= upper_percentile <= 100, got "
            f"{lower_percentile} and {upper_percentile}"
        )
    eligible = a > 0 if exclude_inactive else np.ones(a.shape, dtype=bool)
    if not eligible.any():
        return np.zeros(0, dtype=np.int64)
    lo, hi = np.percentile(a[eligible], [lower_percentile, upper_percentile])
    return np.flatnonzero(eligible & (a >= lo) & (a <= hi)).astype(np.int64)


def ranks_on_sorted(a: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``A`` sorted ascending (001 Fig. 1's curve) and the positions of ``features`` on it."""
    order = np.argsort(a, kind="stable")
    return a[order], np.flatnonzero(np.isin(order, features))


def discriminative_from_config(
    h_train: ArrayLike, cfg: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """``(A, D)`` of a population with the :class:`DiscriminativeSpec` of a config block
    (``analysis.qscore``, or ``regularisers.qscore`` where ``exclude_inactive`` is optional and
    false when absent, the regulariser's behaviour before the key existed): the one place every
    stage derives 001's discriminative features from the train set."""
    spec = DiscriminativeSpec.from_config(cfg)
    a = activation_percentage(h_train, spec.epsilon)
    d = discriminative_features(
        a, spec.lower_percentile, spec.upper_percentile, spec.exclude_inactive
    )
    return a, d


def q_score(
    h: ArrayLike,
    discriminative: ArrayLike,
    epsilon: float,
) -> np.ndarray:
    """Q-Score v2 of every sample, 001 eq. (1).

    ``Q_i := 1 / |L_i ∩ D| * sum_{j in L_i ∩ D} (h_ij - mu_i)``

    computed on the L2-normalised ``h`` (001: "In all our analysis, we perform L2
    normalization over every h"), so ``h_ij``, ``mu_i`` and ``sigma_i`` (inside ``L_i``)
    are those of ``h_i / ||h_i||_2`` and ``Q_i`` is invariant to rescaling a row.

    **Empty intersection:** eq. (1) is undefined when ``L_i ∩ D`` is empty (no
    highly activating discriminative feature).  Such a sample gets ``Q_i = 0``: for
    ``epsilon >= 0`` every defined ``Q_i`` is positive (each ``j in L_i`` has
    ``h_ij - mu_i > epsilon * sigma_i >= 0``), so 0 ranks these samples below every
    sample with a highly activating discriminative feature ("no evidence of quality").

    Args:
        h: ``(N, r)`` representations to score (raw; normalised internally).
        discriminative: the set ``D``, as int feature indices (e.g. from
            :func:`discriminative_features`, usually computed on the train population)
            or as a bool mask of length ``r``.
        epsilon: threshold of ``L_i`` (paper: 4).

    Returns:
        float64 ``(N,)`` array of Q-Scores (``>= 0`` when ``epsilon >= 0``).
    """
    hn, mu, selected = _intersection(h, discriminative, epsilon)
    count = np.count_nonzero(selected, axis=1).astype(np.float64)
    # sum_{L_i ∩ D} (h_ij - mu_i) = sum_{L_i ∩ D} h_ij - |L_i ∩ D| mu_i: no N × r temporary
    total = np.einsum("ij,ij->i", hn, selected) - mu * count
    return _safe_divide(total, count)


def _discriminative_mask(discriminative: ArrayLike, r: int) -> np.ndarray:
    """``D`` (int indices or a bool mask of length ``r``) as a bool mask of length ``r``."""
    d = np.asarray(discriminative)
    d_mask = np.zeros(r, dtype=bool)
    if d.dtype == bool:
        if d.shape != (r,):
            raise ValueError(f"boolean discriminative mask must have shape ({r},), got {d.shape}")
        d_mask[:] = d
    else:
        if d.size and not np.issubdtype(d.dtype, np.integer):
            raise ValueError(f"discriminative must hold integer indices, got dtype {d.dtype}")
        idx = d.astype(np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= r):
            raise ValueError(f"discriminative indices must lie in [0, {r}), got {idx}")
        d_mask[idx] = True
    return d_mask


def _intersection(
    h: ArrayLike, discriminative: ArrayLike, epsilon: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised ``h``, its row means ``mu_i`` and the bool ``(N, r)`` mask of ``L_i ∩ D``."""
    hn = l2_normalise(h)
    d_mask = _discriminative_mask(discriminative, hn.shape[1])
    mu, sigma = _row_mean_std(hn)
    return hn, mu, (hn > (mu + float(epsilon) * sigma)[:, None]) & d_mask[None, :]


def empty_intersection(h: ArrayLike, discriminative: ArrayLike, epsilon: float) -> np.ndarray:
    """Bool ``(N,)``: True where ``L_i ∩ D = ∅``, the samples eq. (1) leaves undefined and
    :func:`q_score` sets to 0 (all tied at the bottom of the ranking)."""
    return ~_intersection(h, discriminative, epsilon)[2].any(axis=1)


def q_score_v1(h: ArrayLike) -> np.ndarray:
    """Q-Score v1 of every sample, 000 eq. (2).

    ``Q_i := Z-Score(max(h_i)) / ||h_i||_1`` with
    ``Z-Score(max(h_i)) = (max_j h_ij - mu_i) / sigma_i`` (000 §4), on the **raw** ``h``
    (000 does not normalise) and ``sigma_i`` the population std (``ddof=0``).

    Guards: the Z-score is 0 when ``sigma_i = 0`` (constant row) and ``Q_i`` is 0 when
    ``||h_i||_1 = 0`` (all-zero row; then also ``sigma_i = 0``).

    Args:
        h: ``(N, r)`` representations.

    Returns:
        float64 ``(N,)`` array.
    """
    arr = _as_representations(h)
    return _safe_divide(_z_score_of_max(arr), np.abs(arr).sum(axis=1))
