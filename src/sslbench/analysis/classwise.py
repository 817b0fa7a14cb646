"""Class-wise views of correct and misclassified representations (000 Fig. 1, 6, 7; 001 Fig. 3).

000/001 show, for a few classes, the average representation of the correctly classified
samples next to that of the misclassified ones, restricted to the same discriminative features:
discriminative features are strongly activated mostly in correct classifications. Averages are
taken over L2-normalised h, as all of 001's analyses are.
"""

from __future__ import annotations

import numpy as np

from sslbench.analysis.qscore import l2_normalise


def top_features(h: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidate features with the largest mean normalised activation."""
    mean = l2_normalise(h)[:, candidates].mean(axis=0)
    return candidates[np.argsort(-mean, kind="stable")[:k]]


def class_mean_representations(
    h: np.ndarray, labels: np.ndarray, correct: np.ndarray, features: np.ndarray, n_classes: int
) -> dict[str, np.ndarray]:
    """Mean normalised ``h[:, features]`` per class over correct and over misclassified samples.

    Returns ``{"correct": (C, K), "misclassified": (C, K)}``; a class without samples in a group
    has a row of NaN.
    """
    hn = l2_normalise(h)[:, features]
    out = {}
    for group, members in (("correct", correct), ("misclassified", ~correct)):
        table = np.full((n_classes, features.size), np.nan)
        for c in range(n_classes):
            rows = members & (labels == c)
            if rows.any():
                table[c] = hn[rows].mean(axis=0)
        out[group] = table
    return out


def classwise_accuracy(labels: np.ndarray, correct: np.ndarray, n_classes: int) -> np.ndarray:
    """Share of correctly classified test samples per class (NaN for an absent class)."""
    return np.array(
        [correct[labels == c].mean() if (labels == c).any() else np.nan for c in range(n_classes)]
    )
