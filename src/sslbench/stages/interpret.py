"""Stage 7: interpretability of the discriminative features (001 §"Quantifying Representation
Interpretability", Fig. 6–7): GradCAM heatmaps of each sample's L_i ∩ D, their mIoU with the
core (shape mask) and the spurious region (background), for correct and misclassified test
samples, and a gallery figure. Datasets without masks are skipped with a logged reason. The
IoU maths is in :mod:`sslbench.analysis.interpretability`, the figures in
:mod:`sslbench.figures`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from sslbench.analysis.interpretability import (
    discriminative_sets,
    feature_heatmaps,
    gallery_samples,
    lowly_activating,
    miou_table,
    per_sample_iou,
)
from sslbench.data import sources
from sslbench.data.augment import evaluation_view
from sslbench.figures import gallery, message_figure
from sslbench.io import load_tensors, write_json
from sslbench.stages.common import evaluation_spec, load_model
from sslbench.tracking import publish_json, run_name, run_tags, tracked_run

log = logging.getLogger(__name__)


def skip(reason: str, summary_out: Path, figure_out: Path) -> None:
    """Write the outputs of a skipped analysis: the reason, and a figure that says it."""
    log.warning("interpretability skipped: %s", reason)
    write_json(summary_out, {"skipped": reason})
    message_figure(f"skipped: {reason}", figure_out)


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    model_path: Path,
    features_path: Path,
    predictions_path: Path,
    summary_out: Path,
    figure_out: Path,
) -> None:
    meta = sources.load_meta(dataset_dir)
    if not meta.get("has_masks"):
        skip(f"dataset {params['dataset']!r} has no core-region masks", summary_out, figure_out)
        return
    cfg = params["gradcam"]
    test = sources.load_split(dataset_dir, "test")
    feats = load_tensors(features_path)
    correct_all = pd.read_csv(predictions_path)["correct"].to_numpy(dtype=bool)
    rng = np.random.default_rng(params["seed"])
    n = min(cfg["n_samples"], correct_all.size)
    chosen = np.sort(rng.choice(correct_all.size, n, replace=False))
    h = feats["h_test"].double().numpy()[chosen]
    sets = discriminative_sets(feats["h_train"].double().numpy(), h, params["qscore"])
    model, model_params = load_model(model_path)
    model.eval()
    x = evaluation_view(test.images[chosen], evaluation_spec(model_params["augment"]))
    layer = model.backbone.stages[-1]
    heatmaps = np.concatenate(
        [
            feature_heatmaps(
                model.backbone, layer, x[s : s + cfg["batch_size"]], sets[s : s + cfg["batch_size"]]
            )
            for s in range(0, n, cfg["batch_size"])
        ]
    )
    has_features = np.array([len(s) > 0 for s in sets])
    core = test.masks[chosen].numpy().astype(bool)
    correct = correct_all[chosen]
    summary = {
        "groups": miou_table(heatmaps[has_features], core[has_features], correct[has_features]),
        "n_samples": n,
        "n_without_discriminative_features": int((~has_features).sum()),
        "samples": chosen[has_features].tolist(),
        "correct": correct[has_features].tolist(),
        **per_sample_iou(heatmaps[has_features], core[has_features]),
    }
    shown = np.flatnonzero(has_features)
    shown = shown[gallery_samples(correct[shown], cfg["gallery_per_group"])]
    lowly = feature_heatmaps(model.backbone, layer, x[shown], lowly_activating(h[shown]))
    with tracked_run(
        run_name(params, "interpret"), run_tags(params, "interpret", meta["version"]), params
    ):
        mlflow.log_metrics(
            {
                f"{metric}_{group}": value
                for group, row in summary["groups"].items()
                for metric, value in row.items()
                if np.isfinite(value)
            }
        )
        gallery(
            test.images[chosen][shown].numpy(),
            heatmaps[shown],
            lowly,
            core[shown],
            correct[shown],
            figure_out,
        )
        publish_json(summary_out, summary, params)
        mlflow.log_artifact(str(figure_out))
    for group, row in summary["groups"].items():
        log.info(
            "%s (n=%d): mIoU core %.3f, spurious %.3f (core area %.3f)",
            group,
            row["n"],
            row["miou_core"],
            row["miou_spurious"],
            row["core_area"],
        )
