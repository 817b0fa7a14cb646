"""Stage 5: Q-Score analysis — both Q-Scores, the five quality metrics of 000 Table 1, and each
one's AUROC / AUPRC as a predictor of linear-probe correctness (000 §4–5, 001 eq. (1), Fig. 4);
the computation is :func:`sslbench.analysis.qscore_summary.qscore_summary`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from sslbench.analysis.qscore_summary import qscore_summary
from sslbench.device import CPU, Compute
from sslbench.io import atomic_path
from sslbench.stages.evaluate import labelled_features
from sslbench.tracking import publish_json, run_name, run_tags, tracked_run

log = logging.getLogger(__name__)


def logged_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The summary's numbers logged to MLflow: every computable AUROC/AUPRC, the share
    correct, the sparsity and, where one was chosen, the validation-selected ε and its AUROC."""
    choice = summary["selected"].get("validation")
    return (
        {
            f"{name}_{k}": v[k]
            for name, v in summary["metrics"].items()
            for k in ("auroc", "auprc")
            if v[k] is not None
        }
        | {
            "share_correct": summary["share_correct"],
            "sparsity_percent": summary["sparsity_percent"],
        }
        | (
            {
                "selected_epsilon": choice["epsilon"],
                "selected_q_score_auroc": summary["selected"]["metrics"]["q_score"]["auroc"],
            }
            if choice
            else {}
        )
    )


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    features_path: Path,
    predictions_path: Path,
    summary_out: Path,
    scores_out: Path,
    compute: Compute = CPU,
) -> None:
    """The Q-Score analysis of one model; its validation probe trains on ``compute``'s
    device."""
    meta, feats, y_train, _ = labelled_features(dataset_dir, features_path, params["target"])
    summary, per_sample = qscore_summary(
        feats["h_train"].double().numpy(),
        y_train,
        feats["h_test"].double().numpy(),
        pd.read_csv(predictions_path),
        params,
        compute.device,
    )
    not_computable = summary["not_computable"]
    with tracked_run(
        run_name(params, "qscore"),
        run_tags(params, "qscore", meta["version"]),
        params,
        compute,
    ):
        mlflow.log_metrics(logged_metrics(summary))
        if not_computable is not None:
            mlflow.set_tag("not_computable", not_computable)
        publish_json(summary_out, summary, params, compute)
    if not_computable is not None:
        log.warning("AUROC/AUPRC not computable: %s", not_computable)
    else:
        log.info(
            "Q-Score AUROC %.4f AUPRC %.4f (share correct %.3f); selected on validation: %s",
            summary["metrics"]["q_score"]["auroc"],
            summary["metrics"]["q_score"]["auprc"],
            summary["share_correct"],
            summary["selected"].get("validation"),
        )
    with atomic_path(scores_out) as tmp:
        per_sample.to_csv(tmp, index_label="sample")
