"""Stage 4: linear probe (per-sample correctness saved) and k-NN accuracy on frozen h."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import torch

from sslbench.data import sources
from sslbench.device import CPU, Compute
from sslbench.evaluation.knn import KNNSpec, knn_predictions
from sslbench.evaluation.linear_probe import LinearProbeSpec, linear_probe
from sslbench.io import atomic_path, load_tensors
from sslbench.tracking import publish_json, run_name, run_tags, tracked_run

log = logging.getLogger(__name__)


def target_column(meta: dict[str, Any], target: str) -> int:
    """Index of the label column named ``target`` (e.g. Trifeature's 'shape')."""
    if target not in meta["factors"]:
        raise ValueError(
            f"evaluation.target: {target!r} is not a factor of this dataset; "
            f"allowed {meta['factors']}"
        )
    return meta["factors"].index(target)


def labelled_features(
    dataset_dir: Path, features_path: Path, target: str
) -> tuple[dict[str, Any], dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The dataset's meta, the saved features and the train / test labels of ``target``."""
    meta = sources.load_meta(dataset_dir)
    col = target_column(meta, target)
    feats = load_tensors(features_path)
    return meta, feats, feats["labels_train"][:, col], feats["labels_test"][:, col]


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    features_path: Path,
    metrics_out: Path,
    predictions_out: Path,
    compute: Compute = CPU,
) -> None:
    """The linear probe and the k-NN vote of one model's frozen h, both on ``compute``'s
    device (the probe in fp32)."""
    meta, feats, y_train, y_test = labelled_features(dataset_dir, features_path, params["target"])
    h_train, h_test = feats["h_train"], feats["h_test"]
    with tracked_run(
        run_name(params, "evaluate"),
        run_tags(params, "evaluate", meta["version"]),
        params,
        compute,
    ):
        probe = linear_probe(
            h_train,
            y_train,
            h_test,
            y_test,
            LinearProbeSpec(**params["linear_probe"], seed=params["seed"]),
            compute.device,
        )
        knn = KNNSpec(**params["knn"])
        knn_correct = knn_predictions(h_train, y_train, h_test, knn, compute.device) == y_test
        metrics = {
            "linear_probe_accuracy": probe.accuracy,
            "knn_accuracy": knn_correct.float().mean().item(),
        }
        log.info("linear probe %(linear_probe_accuracy).4f, k-NN %(knn_accuracy).4f", metrics)
        mlflow.log_metrics(metrics)
        result = {**metrics, "target": params["target"], "n_test": len(y_test)}
        publish_json(metrics_out, result, params, compute)
        table = pd.DataFrame(
            {
                "label": y_test.numpy(),
                "prediction": probe.predictions.numpy(),
                "correct": probe.correct.numpy(),
                "confidence": probe.confidence.numpy(),
                "knn_correct": knn_correct.numpy(),
            }
        )
        with atomic_path(predictions_out) as tmp:
            table.to_csv(tmp, index_label="sample")
