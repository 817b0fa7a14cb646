"""Stage 5: Q-Score analysis — both Q-Scores, the five quality metrics of 000 Table 1, and each
one's AUROC / AUPRC as a predictor of linear-probe correctness (000 §4–5, 001 eq. (1), Fig. 4)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch

from sslbench.analysis.bootstrap import bootstrap_interval, bootstrap_mean_difference
from sslbench.analysis.prediction import auroc_auprc, single_class
from sslbench.analysis.qscore import (
    discriminative_from_config,
    epsilon_window_grid,
    highly_activating,
    q_score,
    select_epsilon_window,
    validation_split,
)
from sslbench.analysis.quality_metrics import make_quality_metrics
from sslbench.evaluation.linear_probe import LinearProbeSpec, linear_probe
from sslbench.io import atomic_path, write_json
from sslbench.stages.common import run_name, run_tags, with_provenance
from sslbench.stages.evaluate import labelled_features
from sslbench.tracking import tracked_run

log = logging.getLogger(__name__)


def sample_scores(
    h_train: np.ndarray, h_test: np.ndarray, cfg: dict[str, Any]
) -> tuple[pd.DataFrame, int]:
    """Every per-sample score, oriented so that higher predicts a correct classification.

    Discriminative features D come from the train set (001: "We discover discriminative
    features for each pre-trained model using the train set"); scores are computed on test h.
    """
    _, d = discriminative_from_config(h_train, cfg)
    scores = {"q_score": q_score(h_test, d, cfg["epsilon"])}
    for name, metric in make_quality_metrics(cfg["soft_sparsity_eta"]).items():
        scores[name] = metric.oriented(h_test)
    return pd.DataFrame(scores), len(d)


def grid_windows(cfg: dict[str, Any]) -> list[tuple[float, float]]:
    return [(float(lo), float(hi)) for lo, hi in cfg["grid"]["windows"]]


def validation_grid(
    h_train: np.ndarray, y_train: torch.Tensor, params: dict[str, Any]
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


def predictor_stats(
    score: np.ndarray, correct: np.ndarray, cfg: dict[str, Any], seed: int
) -> dict[str, Any]:
    """AUROC and AUPRC of one score predicting ``correct``, with bootstrap intervals."""
    auroc, auprc = auroc_auprc(score, correct)
    ci = bootstrap_interval(
        score, correct, cfg["bootstrap_samples"], cfg["confidence"], np.random.default_rng(seed)
    )
    return {"auroc": auroc, "auprc": auprc, "auroc_ci": ci["auroc"], "auprc_ci": ci["auprc"]}


def sparsity_percent(
    h: np.ndarray, cfg: dict[str, Any], seed: int
) -> tuple[float, tuple[float, float]]:
    """Share (%) of entries of h with |h| < ``sparsity_threshold`` (000 Table 2's sparsity) and
    its percentile-bootstrap interval over samples (the report's ``less_than`` verdicts use it)."""
    per_sample = (np.abs(h) < cfg["sparsity_threshold"]).mean(axis=1) * 100.0
    return bootstrap_mean_difference(
        per_sample, None, cfg["bootstrap_samples"], cfg["confidence"], seed
    )


#: A score's entry where AUROC/AUPRC are not computable (one class of ``correct``).
NOT_COMPUTABLE = {"auroc": None, "auprc": None, "auroc_ci": None, "auprc_ci": None}


def predictor_table(
    scores: pd.DataFrame, correct: np.ndarray, cfg: dict[str, Any], seed: int
) -> dict[str, dict[str, Any]]:
    """AUROC / AUPRC of every score predicting ``correct``, with bootstrap intervals; all None
    (not computable) when every test sample is correct, or every one misclassified."""
    if single_class(correct) is not None:
        return {name: dict(NOT_COMPUTABLE) for name in scores.columns}
    return {
        name: predictor_stats(scores[name].to_numpy(), correct, cfg, seed)
        for name in scores.columns
    }


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    features_path: Path,
    predictions_path: Path,
    summary_out: Path,
    scores_out: Path,
) -> None:
    meta, feats, y_train, _ = labelled_features(dataset_dir, features_path, params["target"])
    cfg = params["qscore"]
    h_train, h_test = feats["h_train"].double().numpy(), feats["h_test"].double().numpy()
    predictions = pd.read_csv(predictions_path)
    correct = predictions["correct"].to_numpy(dtype=bool)
    scores, n_discriminative = sample_scores(h_train, h_test, cfg)
    not_computable = single_class(correct)
    table = predictor_table(scores, correct, cfg, params["seed"])
    validation = validation_grid(h_train, y_train, params) if not_computable is None else []
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
    with tracked_run(
        run_name(params, "qscore"),
        run_tags(params, "qscore", meta["version"]),
        params,
    ):
        mlflow.log_metrics(
            {
                f"{name}_{k}": v[k]
                for name, v in table.items()
                for k in ("auroc", "auprc")
                if v[k] is not None
            }
            | {"share_correct": summary["share_correct"], "sparsity_percent": sparsity}
            | (
                {
                    "selected_epsilon": choice["epsilon"],
                    "selected_q_score_auroc": summary["selected"]["metrics"]["q_score"]["auroc"],
                }
                if choice
                else {}
            )
        )
        if not_computable is not None:
            mlflow.set_tag("not_computable", not_computable)
        write_json(summary_out, with_provenance(summary, params))
        mlflow.log_artifact(str(summary_out))
    if not_computable is not None:
        log.warning("AUROC/AUPRC not computable: %s", not_computable)
    else:
        log.info(
            "Q-Score AUROC %.4f AUPRC %.4f (share correct %.3f); selected on validation: %s",
            table["q_score"]["auroc"],
            table["q_score"]["auprc"],
            summary["share_correct"],
            choice,
        )
    # per-sample columns the report's paired claims read: predictions (did the model move?),
    # the probe's confidence and |L_i| at the paper's ε (001 Fig. A.10)
    with atomic_path(scores_out) as tmp:
        scores.assign(
            correct=correct,
            knn_correct=predictions["knn_correct"],
            prediction=predictions["prediction"],
            confidence=predictions["confidence"],
            n_highly_activating=highly_activating(h_test, cfg["epsilon"]).sum(axis=1),
        ).to_csv(tmp, index_label="sample")
