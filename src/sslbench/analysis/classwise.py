"""Class-wise views of correct and misclassified representations (000 Fig. 1, 6, 7; 001 Fig. 3),
and class-wise accuracy changes by accuracy group (000 Fig. 6).

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


def accuracy_groups(accuracy: np.ndarray, n_groups: int) -> np.ndarray:
    """Each class's group when the classes, in increasing order of ``accuracy``, are cut into
    ``n_groups`` near-equal sections (000 Fig. 6: "grouped into 3 sections"; with C classes the
    first C mod n_groups sections get one class more); group 0 holds the lowest accuracies."""
    order = np.argsort(accuracy, kind="stable")
    groups = np.empty(accuracy.size, dtype=int)
    for group, members in enumerate(np.array_split(order, n_groups)):
        groups[members] = group
    return groups


def group_gains(
    labels: np.ndarray, treated: np.ndarray, control: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Per group of classes, the mean over its classes of the per-class accuracy change
    (treated − control, each a 0/1 correctness per sample); NaN everywhere when a class has no
    sample."""
    n_classes = groups.size
    counts = np.bincount(labels, minlength=n_classes)
    if (counts == 0).any():
        return np.full(groups.max() + 1, np.nan)
    change = np.bincount(labels, weights=treated - control, minlength=n_classes) / counts
    return np.array([change[groups == g].mean() for g in range(groups.max() + 1)])


def lowest_group_gain_gap(
    labels: np.ndarray, treated: np.ndarray, control: np.ndarray, groups: np.ndarray
) -> float:
    """How much more the lowest-accuracy group of classes gains than the other groups: the
    :func:`group_gains` of group 0 minus the mean of the others' (000 Fig. 6's "the most
    improvement (5.86 %) in the classes of lowest accuracy" holds when it is positive). The
    others' mean, not their maximum: the maximum of noisy gains is biased upwards, which would
    make an effect-free pair look like a contradiction."""
    gains = group_gains(labels, treated, control, groups)
    return float(gains[0] - gains[1:].mean())


def class_activation_share(
    active: np.ndarray, labels: np.ndarray, features: np.ndarray, n_classes: int
) -> dict[str, list[float] | list[int]]:
    """How class-correlated each of ``features`` is (001 Fig. 1's bar plots: "these features
    activate more than 80 % of particular classes"): for every feature j, the share of each
    class's samples with j in their highly activating set L_i (``active``, the (N, r) mask of
    :func:`sslbench.analysis.qscore.highly_activating`), reduced to its largest share and that
    class."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    share = np.stack([active[labels == c][:, features].sum(axis=0) for c in range(n_classes)])
    share = share / np.maximum(counts, 1.0)[:, None]  # (C, K)
    return {
        "max_share": share.max(axis=0).tolist() if features.size else [],
        "class": share.argmax(axis=0).tolist() if features.size else [],
    }
