"""001's ε and percentile window, "empirically selected" and "further tuned for each
model-dataset pair": Q-Score v2 (eq. 1) at every ε × window of a grid, chosen on a validation
split of the train set so that the test split decides the claim and never the choice (issue 18).
Apart from :mod:`sslbench.analysis.qscore` so that the regulariser, which imports that module
into every network job, does not import scikit-learn."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sslbench.analysis.prediction import auroc_auprc
from sslbench.analysis.qscore import (
    activation_percentage,
    discriminative_features,
    empty_intersection,
    q_score,
)


def validation_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``n`` train samples into (fit, validation) indices, ``fraction`` of them
    held out for validation: the split on which ε and the window are selected (001: "empirically
    selected", "can be further tuned for each model-dataset pair"), so that the test split
    decides the claim and never the choice."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must lie in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(fraction * n))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def epsilon_window_grid(
    h_population: ArrayLike,
    h_eval: ArrayLike,
    correct: ArrayLike,
    epsilons: list[float],
    windows: list[tuple[float, float]],
    exclude_inactive: bool,
) -> list[dict[str, float]]:
    """Q-Score v2 at every ε × percentile window: ``D`` from ``h_population`` (A_j at that ε),
    scores on ``h_eval``, each row with |D|, the share of ``h_eval`` samples with
    ``L_i ∩ D = ∅`` (Q = 0, tied) and the AUROC / AUPRC of Q predicting ``correct``."""
    rows = []
    for epsilon in epsilons:
        a = activation_percentage(h_population, epsilon)
        for lower, upper in windows:
            d = discriminative_features(a, lower, upper, exclude_inactive)
            auroc, auprc = auroc_auprc(q_score(h_eval, d, epsilon), correct)
            rows.append(
                {
                    "epsilon": float(epsilon),
                    "lower_percentile": float(lower),
                    "upper_percentile": float(upper),
                    "n_discriminative": int(d.size),
                    "empty_share": float(empty_intersection(h_eval, d, epsilon).mean()),
                    "auroc": auroc,
                    "auprc": auprc,
                }
            )
    return rows


def select_epsilon_window(rows: list[dict[str, float]]) -> dict[str, float]:
    """The grid row of highest AUROC (ties: fewer tied samples, then the larger ε, then the
    paper's order of windows as listed) — applied to validation rows only."""
    if not rows:
        raise ValueError("empty ε × window grid")
    return max(
        enumerate(rows),
        key=lambda item: (item[1]["auroc"], -item[1]["empty_share"], item[1]["epsilon"], -item[0]),
    )[1]
