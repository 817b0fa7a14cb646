"""Stage 6: representation analyses of one trained model — the activation-percentage curve and
compression curves of 001 (Fig. 1, 2, A.5, A.7), the eigen-spectra of h and z with their
effective ranks (002 Fig. 2, 003 Fig. 1, 3) and the class-wise views of 000/001 (000 Fig. 1,
6, 7; 001 Fig. 3)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch

from sslbench.analysis.classwise import (
    class_activation_share,
    class_mean_representations,
    classwise_accuracy,
    top_features,
)
from sslbench.analysis.compression import CompressionSpec, compression_curves
from sslbench.analysis.qscore import (
    DiscriminativeSpec,
    discriminative_from_config,
    highly_activating,
    ranks_on_sorted,
)
from sslbench.analysis.spectrum import spectrum_summary
from sslbench.device import CPU, Compute
from sslbench.evaluation.linear_probe import LinearProbeSpec
from sslbench.stages.evaluate import labelled_features
from sslbench.tracking import publish_json, run_name, run_tags, tracked_run

log = logging.getLogger(__name__)


def discriminative_analysis(
    h_train: np.ndarray,
    y_train: torch.Tensor,
    h_test: np.ndarray,
    y_test: torch.Tensor,
    params: dict[str, Any],
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """A on the train set (sorted, 001 Fig. 1), D, how class-correlated each feature of D is
    (Fig. 1's bar plots) and the compression curves (001 Fig. 2), their probes on ``device``."""
    q = params["qscore"]
    a, d = discriminative_from_config(h_train, q)
    cfg = params["compression"]
    spec = CompressionSpec(
        keep_fractions=tuple(cfg["keep_fractions"]),
        random_draws=cfg["random_draws"],
        lower_percentile=q["lower_percentile"],
        upper_percentile=q["upper_percentile"],
    )
    probe = LinearProbeSpec(**params["linear_probe"], seed=params["seed"])
    curves = compression_curves(h_train, y_train, h_test, y_test, a, spec, probe, device)
    labels = y_train.numpy()
    active = highly_activating(h_train, DiscriminativeSpec.from_config(q).epsilon)
    a_sorted, d_ranks = ranks_on_sorted(a, d)
    return {
        "activation_percentage_sorted": a_sorted.tolist(),
        "discriminative": d.tolist(),
        # where D's features sit on the sorted curve (001 Fig. 1's shaded band, read, not assumed)
        "discriminative_ranks": d_ranks.tolist(),
        "compression": curves,
        "discriminative_classes": class_activation_share(active, labels, d, int(labels.max()) + 1),
    }


def classwise_analysis(
    h_test: np.ndarray,
    labels: np.ndarray,
    correct: np.ndarray,
    discriminative: np.ndarray,
    n_classes: int,
    k: int,
) -> dict[str, Any]:
    """Class-averaged normalised h on the top-``k`` discriminative features, correct vs wrong."""
    features = top_features(h_test, discriminative, k) if discriminative.size else discriminative
    means = class_mean_representations(h_test, labels, correct, features, n_classes)
    accuracy = classwise_accuracy(labels, correct, n_classes)
    return {
        "features": features.tolist(),
        **{group: _json_table(table) for group, table in means.items()},
        "accuracy": _json_table(accuracy),
    }


def _json_table(values: np.ndarray) -> list[Any]:
    """A float array as nested lists with NaN as ``None`` (JSON has no NaN)."""
    return np.where(np.isnan(values), None, values).tolist()


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    features_path: Path,
    predictions_path: Path,
    out: Path,
    compute: Compute = CPU,
) -> None:
    meta, feats, y_train, y_test = labelled_features(dataset_dir, features_path, params["target"])
    h_train, h_test = feats["h_train"].double().numpy(), feats["h_test"].double().numpy()
    correct = pd.read_csv(predictions_path)["correct"].to_numpy(dtype=bool)
    with tracked_run(
        run_name(params, "representation"),
        run_tags(params, "representation", meta["version"]),
        params,
        compute,
    ):
        result = discriminative_analysis(h_train, y_train, h_test, y_test, params, compute.device)
        result["spectrum"] = {
            space: spectrum_summary(feats[f"{space}_test"].double().numpy()) for space in ("h", "z")
        }
        result["classwise"] = classwise_analysis(
            h_test,
            y_test.numpy(),
            correct,
            np.asarray(result["discriminative"], dtype=np.int64),
            len(meta["classes"][params["target"]]),
            params["classwise"]["top_features"],
        )
        curves = result["compression"]
        for i, percent in enumerate(curves["keep_percent"]):
            mlflow.log_metrics(
                {
                    f"compression_{name}": curves[name][i]
                    for name in ("discriminative", "random", "pca", "lower_tail", "upper_tail")
                },
                step=round(percent),
            )
        mlflow.log_metrics(
            {
                f"effective_rank_{space}": result["spectrum"][space]["effective_rank"]
                for space in ("h", "z")
            }
            | {"n_discriminative_features": len(result["discriminative"])}
        )
        publish_json(out, result, params, compute)
    log.info(
        "effective rank h %.2f / %d, z %.2f / %d; |D| = %d",
        result["spectrum"]["h"]["effective_rank"],
        result["spectrum"]["h"]["dimension"],
        result["spectrum"]["z"]["effective_rank"],
        result["spectrum"]["z"]["dimension"],
        len(result["discriminative"]),
    )
