"""The Q-Score analysis of one model (stage ``qscore``, 000 §4–5, 001 eq. (1), Fig. 4): both
Q-Scores and the five quality metrics of 000 Table 1 per test sample, each one's AUROC / AUPRC
as a predictor of linear-probe correctness with bootstrap intervals, the ε × window grid (on
the test split, and on a validation part of the train split to choose ε and the window), and
the sparsity of h.

Discriminative features D always come from the train set (001: "We discover discriminative
features for each pre-trained model using the train set"); scores are computed on test h.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from sslbench.analysis.bootstrap import bootstrap_mean_difference
from sslbench.analysis.epsilon_selection import (
    epsilon_window_grid,
    select_epsilon_window,
    validation_split,
)
from sslbench.analysis.prediction import predictor_stats, predictor_table, single_class
from sslbench.analysis.qscore import discriminative_from_config, highly_activating, q_score
from sslbench.analysis.quality_metrics import make_quality_metrics
from sslbench.evaluation.linear_probe import LinearProbeSpec, linear_probe

log = logging.getLogger(__name__)


def sample_scores(
    h_train: np.ndarray, h_test: np.ndarray, cfg: dict[str, Any]
) -> tuple[pd.DataFrame, int]:
    """Every per-sample score, oriented so that higher predicts a correct classification, and
    the size of D (from the train set; scores on test h)."""
    _, d = discriminative_from_config(h_train, cfg)
    scores = {"q_score": q_score(h_test, d, cfg["epsilon"])}
    for name, metric in make_quality_metrics(cfg["soft_sparsity_eta"]).items():
        scores[name] = metric.oriented(h_test)
    return pd.DataFrame(scores), len(d)


def grid_windows(cfg: dict[str, Any]) -> list[tuple[float, float]]:
    return [(float(lo), float(hi)) for lo, hi in cfg["grid"]["windows"]]


def validation_grid(
    h_train: np.ndarray,
    y_train: torch.Tensor,
    params: dict[str, Any],
    device: torch.device | str = "cpu",
) -> list[dict[str, float]]:
    """The ε × window grid on a held-out part of the *train* set: a linear probe trained on the
    rest gives the validation samples' correctness, D comes from the rest's A. The test split is
    not an argument, so the selection cannot read it. Empty when the validation correctness has
    a single class (AUROC undefined: nothing to select on)."""
    cfg = params["qscore"]
    fit, val = validation_split(len(h_train), cfg["grid"]["validation_fraction"], params["seed"])
    h = torch.from_numpy(h_train)
    probe = linear_probe(
        h[fit],
        y_train[fit],
        h[val],
        y_train[val],
        LinearProbeSpec(**params["linear_probe"], seed=params["seed"]),
        device,
    )
    correct = probe.correct.numpy()
    if correct.all() or not correct.any():
        log.warning("validation probe is all right or all wrong: no ε × window selection")
        return []
    return epsilon_window_grid(
        h_train[fit],
        h_train[val],
        correct,
        cfg["grid"]["epsilons"],
        grid_windows(cfg),
        cfg["exclude_inactive"],
    )


def selected_summary(
    h_train: np.ndarray,
    h_test: np.ndarray,
    correct: np.ndarray,
    choice: dict[str, float],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Q-Score v2 on the test split at the ε and window chosen on validation, with its bootstrap
    intervals (the same form as the paper-ε summary, so the same verdicts apply)."""
    cfg = params["qscore"] | {
        key: choice[key] for key in ("epsilon", "lower_percentile", "upper_percentile")
    }
    _, d = discriminative_from_config(h_train, cfg)
    score = q_score(h_test, d, cfg["epsilon"])
    return {
        "epsilon": cfg["epsilon"],
        "lower_percentile": cfg["lower_percentile"],
        "upper_percentile": cfg["upper_percentile"],
        "validation": choice,
        "n_discriminative_features": int(d.size),
        "share_correct": float(correct.mean()),
        "metrics": {"q_score": predictor_stats(score, correct, cfg, params["seed"])},
    }


def sparsity_percent(
    h: np.ndarray, cfg: dict[str, Any], seed: int
) -> tuple[float, tuple[float, float]]:
    """Share (%) of entries of h with |h| < ``sparsity_threshold`` (000 Table 2's sparsity) and
    its percentile-bootstrap interval over samples (the report's ``less_than`` verdicts use it)."""
    per_sample = (np.abs(h) < cfg["sparsity_threshold"]).mean(axis=1) * 100.0
    return bootstrap_mean_difference(
        per_sample, None, cfg["bootstrap_samples"], cfg["confidence"], seed
    )


def qscore_summary(
    h_train: np.ndarray,
    y_train: torch.Tensor,
    h_test: np.ndarray,
    predictions: pd.DataFrame,
    params: dict[str, Any],
    device: torch.device | str = "cpu",
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The analysis of one model: its summary (what ``qscore.json`` holds, without provenance)
    and the per-sample columns the report's paired claims read: every score, the evaluate
    stage's predictions (did the model move?), the probe's confidence and |L_i| at the paper's
    ε (001 Fig. A.10). The validation probe trains on ``device``. AUROC/AUPRC and the grids
    are recorded as not computable, with the reason, when the probe's test correctness has a
    single class."""
    cfg = params["qscore"]
    correct = predictions["correct"].to_numpy(dtype=bool)
    scores, n_discriminative = sample_scores(h_train, h_test, cfg)
    not_computable = single_class(correct)
    table = predictor_table(scores, correct, cfg, params["seed"])
    validation = validation_grid(h_train, y_train, params, device) if not_computable is None else []
    choice = select_epsilon_window(validation) if validation else None
    sparsity, sparsity_ci = sparsity_percent(h_test, cfg, params["seed"])
    summary = {
        "not_computable": not_computable,
        "metrics": table,
        "share_correct": float(correct.mean()),
        "n_test": int(correct.size),
        "n_discriminative_features": n_discriminative,
        "representation_dim": int(h_test.shape[1]),
        "sparsity_percent": sparsity,
        "sparsity_percent_ci": sparsity_ci,
        "epsilon_grid": []
        if not_computable
        else epsilon_window_grid(
            h_train,
            h_test,
            correct,
            cfg["grid"]["epsilons"],
            grid_windows(cfg),
            cfg["exclude_inactive"],
        ),
        "selected": selected_summary(h_train, h_test, correct, choice, params)
        if choice
        else {"skipped": not_computable or "the validation probe's correctness has a single class"},
    }
    per_sample = scores.assign(
        correct=correct,
        knn_correct=predictions["knn_correct"],
        prediction=predictions["prediction"],
        confidence=predictions["confidence"],
        n_highly_activating=highly_activating(h_test, cfg["epsilon"]).sum(axis=1),
    )
    return summary, per_sample
