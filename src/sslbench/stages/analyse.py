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
from sslbench.analysis.prediction import auroc_auprc
from sslbench.analysis.qscore import discriminative_from_config, q_score
from sslbench.analysis.quality_metrics import make_quality_metrics
from sslbench.data import sources
from sslbench.io import atomic_path, write_json
from sslbench.stages.common import run_name, run_tags, with_provenance
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


def sparsity_percent(
    h: np.ndarray, cfg: dict[str, Any], seed: int
) -> tuple[float, tuple[float, float]]:
    """Share (%) of entries of h with |h| < ``sparsity_threshold`` (000 Table 2's sparsity) and
    its percentile-bootstrap interval over samples (the report's ``less_than`` verdicts use it)."""
    per_sample = (np.abs(h) < cfg["sparsity_threshold"]).mean(axis=1) * 100.0
    return bootstrap_mean_difference(
        per_sample, None, cfg["bootstrap_samples"], cfg["confidence"], seed
    )


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    features_path: Path,
    predictions_path: Path,
    summary_out: Path,
    scores_out: Path,
) -> None:
    meta = sources.load_meta(dataset_dir)
    cfg = params["qscore"]
    feats = torch.load(features_path, weights_only=True)
    h_train, h_test = feats["h_train"].double().numpy(), feats["h_test"].double().numpy()
    predictions = pd.read_csv(predictions_path)
    correct = predictions["correct"].to_numpy(dtype=bool)
    scores, n_discriminative = sample_scores(h_train, h_test, cfg)
    rng = np.random.default_rng(params["seed"])
    table = {}
    for name in scores.columns:
        auroc, auprc = auroc_auprc(scores[name].to_numpy(), correct)
        ci = bootstrap_interval(
            scores[name].to_numpy(), correct, cfg["bootstrap_samples"], cfg["confidence"], rng
        )
        table[name] = {
            "auroc": auroc,
            "auprc": auprc,
            "auroc_ci": ci["auroc"],
            "auprc_ci": ci["auprc"],
        }
    sparsity, sparsity_ci = sparsity_percent(h_test, cfg, params["seed"])
    summary = {
        "metrics": table,
        "share_correct": float(correct.mean()),
        "n_test": int(correct.size),
        "n_discriminative_features": n_discriminative,
        "representation_dim": int(h_test.shape[1]),
        "sparsity_percent": sparsity,
        "sparsity_percent_ci": sparsity_ci,
    }
    with tracked_run(
        run_name(params, "qscore"),
        run_tags(params, "qscore", meta["version"]),
        params,
    ):
        mlflow.log_metrics(
            {f"{name}_{k}": v[k] for name, v in table.items() for k in ("auroc", "auprc")}
            | {"share_correct": summary["share_correct"], "sparsity_percent": sparsity}
        )
        write_json(summary_out, with_provenance(summary, params))
        mlflow.log_artifact(str(summary_out))
    log.info(
        "Q-Score AUROC %.4f AUPRC %.4f (share correct %.3f)",
        table["q_score"]["auroc"],
        table["q_score"]["auprc"],
        summary["share_correct"],
    )
    with atomic_path(scores_out) as tmp:
        scores.assign(correct=correct, knn_correct=predictions["knn_correct"]).to_csv(
            tmp, index_label="sample"
        )
