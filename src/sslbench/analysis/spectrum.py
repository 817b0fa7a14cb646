"""Eigen-spectra of representations and embeddings, and their effective rank.

003 (SparseHead) Fig. 1 and 3 and 002 Fig. 2 plot, on a log scale, the eigenvalues of the
covariance of the representation h (before the projector) and of the embedding z (after it);
dimensional collapse shows as eigenvalues falling to ~0. To make collapse a number as well as
a plot, every spectrum is summarised by the entropy-based effective rank of Roy & Vetterli
(2007), ``exp(-sum_k p_k log p_k)`` with ``p_k = sigma_k / sum_l sigma_l`` over the singular
values ``sigma_k`` of the *centred* matrix (from the covariance, whose spectrum the papers
plot). It lies in [1, d] and equals k for k equal non-zero singular values. It is not RankMe
(Garrido et al. 2023), which takes the same entropy of the uncentred embedding matrix's
singular values: the mean direction counts there as one more, so the two differ wherever
the embeddings' mean is not zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def covariance_spectrum(x: ArrayLike) -> np.ndarray:
    """Eigenvalues of the sample covariance of ``x`` (N × d), descending, clipped at 0.

    Covariance with ``ddof=1``; tiny negative eigenvalues from round-off are set to 0.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"covariance_spectrum needs an (N >= 2, d) array, got shape {arr.shape}")
    eigenvalues = np.linalg.eigvalsh(np.cov(arr, rowvar=False).reshape(arr.shape[1], -1))
    return np.clip(eigenvalues[::-1], 0.0, None)


def effective_rank(singular_values: ArrayLike) -> float:
    """Entropy effective rank ``exp(H(p))``, ``p = sigma / sum(sigma)`` (Roy & Vetterli 2007).

    Returns 0 for an all-zero spectrum (no direction carries any variance).
    """
    s = np.abs(np.asarray(singular_values, dtype=np.float64))
    if s.sum() == 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def spectrum_summary(x: ArrayLike) -> dict[str, object]:
    """Covariance eigenvalues of ``x`` and the effective rank of its centred singular values
    (``sigma_k = sqrt((N - 1) lambda_k)``, so the rank is that of the centred matrix)."""
    eigenvalues = covariance_spectrum(x)
    return {
        "eigenvalues": eigenvalues.tolist(),
        "effective_rank": effective_rank(np.sqrt(eigenvalues)),
        "dimension": int(eigenvalues.size),
    }
