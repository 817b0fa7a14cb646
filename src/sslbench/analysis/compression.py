"""Compressing a representation with its discriminative features (001 §"Discriminative
Features", Fig. 2, A.5, A.7).

001 selects feature subsets of decreasing size from the activation percentages ``A`` "by
gradually increasing the lower limits (from the 0th percentile) and decreasing the upper limits
(from the 100th percentile)" of ``A``, and compares the linear-probe accuracy of each subset with
random subsets of the same size (averaged over 4 draws), with the same number of top principal
components (Fig. A.5) and with subsets from the lower or the upper tail of ``A`` only (Fig. A.7).

Choices the paper leaves open, fixed here:

* Subsets are taken by *rank* of ``A`` so that every method keeps exactly the requested count
  even though ``A`` has many ties (``A_j`` is a multiple of 100/N and often 0); ties are broken
  by the feature's mean activation, then by index.
* The window shrinks towards the middle with the lower and the upper limit moving in the ratio
  of the configured percentiles (50 : 5 for 001's 50th–95th window), so the window that keeps
  (upper − lower) % of the features is exactly 001's set D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.decomposition import PCA

from sslbench.evaluation.linear_probe import LinearProbeSpec, linear_probes

SELECTIONS = ("discriminative", "random", "pca", "lower_tail", "upper_tail")


@dataclass(frozen=True)
class CompressionSpec:
    """Keep fractions of the curve, random draws per size and the percentile window of D
    (``analysis.compression`` and ``analysis.qscore``: the values live in config only)."""

    keep_fractions: tuple[float, ...]
    random_draws: int
    lower_percentile: float
    upper_percentile: float


def activation_order(activation_pct: np.ndarray, mean_activation: np.ndarray) -> np.ndarray:
    """Feature indices in ascending order of ``A`` (ties: mean activation, then index)."""
    index = np.arange(activation_pct.size)
    return np.lexsort((index, mean_activation, activation_pct))


def n_kept(n_features: int, keep_fraction: float) -> int:
    """Number of features a keep fraction leaves (at least one)."""
    if not 0.0 < keep_fraction <= 1.0:
        raise ValueError(f"keep fraction must lie in (0, 1], got {keep_fraction}")
    return max(1, round(keep_fraction * n_features))


def window_subset(order: np.ndarray, n_keep: int, lower: float, upper: float) -> np.ndarray:
    """The middle window of ``order`` keeping ``n_keep`` features; the features trimmed below
    and above are split in the ratio ``lower : (100 - upper)`` of the percentile window."""
    trimmed = order.size - n_keep
    below = round(trimmed * lower / (lower + 100.0 - upper)) if trimmed else 0
    return np.sort(order[below : below + n_keep])


def tail_subset(order: np.ndarray, n_keep: int, tail: str) -> np.ndarray:
    """The ``n_keep`` features with the lowest (``"lower"``) or highest (``"upper"``) ``A``."""
    chosen = order[:n_keep] if tail == "lower" else order[order.size - n_keep :]
    return np.sort(chosen)


def compression_curves(
    h_train: np.ndarray,
    y_train: torch.Tensor,
    h_test: np.ndarray,
    y_test: torch.Tensor,
    activation_pct: np.ndarray,
    spec: CompressionSpec,
    probe: LinearProbeSpec,
    device: torch.device | str = "cpu",
) -> dict[str, list[float]]:
    """Linear-probe accuracy vs % of the representation kept, for each selection of 001.

    Returns lists aligned with ``spec.keep_fractions``: the kept count and percentage, and the
    test accuracy of the discriminative window, random subsets (mean and std over
    ``random_draws``), the top principal components (fitted on the train set), the lower tail
    and the upper tail of ``A``. Every probe of the curves trains side by side on ``device``
    (:func:`~sslbench.evaluation.linear_probe.linear_probes`).
    """
    order = activation_order(activation_pct, h_train.mean(axis=0))
    rng = np.random.default_rng(probe.seed)
    r = h_train.shape[1]
    keys: list[tuple[str, int]] = []  # (selection, keep-fraction index) of each probe
    inputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def add(selection: str, step: int, train: np.ndarray, test: np.ndarray) -> None:
        keys.append((selection, step))
        inputs.append((torch.from_numpy(train).float(), torch.from_numpy(test).float()))

    kept = [n_kept(r, fraction) for fraction in spec.keep_fractions]
    for step, k in enumerate(kept):
        subsets = {
            "discriminative": window_subset(order, k, spec.lower_percentile, spec.upper_percentile),
            "lower_tail": tail_subset(order, k, "lower"),
            "upper_tail": tail_subset(order, k, "upper"),
        }
        subsets |= {
            f"random{draw}": rng.choice(r, k, replace=False) for draw in range(spec.random_draws)
        }
        for name, subset in subsets.items():
            add(name, step, h_train[:, subset], h_test[:, subset])
        pca = PCA(n_components=k, random_state=probe.seed).fit(h_train)
        add("pca", step, pca.transform(h_train), pca.transform(h_test))
    results = linear_probes(inputs, y_train, y_test, probe, device)
    accuracy = {key: result.accuracy for key, result in zip(keys, results, strict=True)}
    curves: dict[str, list[float]] = {
        "n_features": kept,
        "keep_percent": [100.0 * k / r for k in kept],
    }
    for name in SELECTIONS:
        if name != "random":
            curves[name] = [accuracy[name, step] for step in range(len(kept))]
    draws = [
        [accuracy[f"random{draw}", step] for draw in range(spec.random_draws)]
        for step in range(len(kept))
    ]
    curves["random"] = [float(np.mean(d)) for d in draws]
    curves["random_std"] = [float(np.std(d)) for d in draws]
    return curves
