"""Stage 7: interpretability of the discriminative features (001 §"Quantifying Representation
Interpretability", Fig. 6–7): GradCAM heatmaps of each sample's L_i ∩ D, their mIoU with the
core (shape mask) and the spurious region (background), for correct and misclassified test
samples, and a gallery figure. Datasets without masks are skipped with a logged reason."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from sslbench.analysis.interpretability import (  # noqa: E402
    feature_heatmaps,
    heatmap_iou,
    mean_iou,
)
from sslbench.analysis.qscore import discriminative_from_config, highly_activating  # noqa: E402
from sslbench.data import sources  # noqa: E402
from sslbench.data.augment import evaluation_view  # noqa: E402
from sslbench.io import atomic_path, write_json  # noqa: E402
from sslbench.stages.common import (  # noqa: E402
    evaluation_spec,
    load_model,
    with_provenance,
)
from sslbench.tracking import run_name, run_tags, tracked_run  # noqa: E402

log = logging.getLogger(__name__)
GROUPS = ("correct", "misclassified")


def discriminative_sets(h_train: np.ndarray, h: np.ndarray, q: dict[str, Any]) -> list[list[int]]:
    """``L_i ∩ D`` of every row of ``h`` with D from the train set (001 eq. (1))."""
    d = np.zeros(h.shape[1], dtype=bool)
    d[discriminative_from_config(h_train, q)[1]] = True
    selected = highly_activating(h, q["epsilon"]) & d
    return [np.flatnonzero(row).tolist() for row in selected]


def lowly_activating(h: np.ndarray) -> list[list[int]]:
    """Per sample, the feature with the smallest non-zero activation (001 Fig. A.11–A.14)."""
    masked = np.where(h > 0, h, np.inf)
    return [[int(np.argmin(row))] for row in masked]


def per_sample_iou(heatmaps: np.ndarray, core: np.ndarray) -> dict[str, list[float]]:
    """Each image's IoU (001's s-weighted ratio) with its core and its spurious region, and the
    core's area fraction (what a uniform heatmap scores: the chance level of its core IoU)."""
    return {
        "iou_core": [heatmap_iou(h, c) for h, c in zip(heatmaps, core, strict=True)],
        "iou_spurious": [heatmap_iou(h, ~c) for h, c in zip(heatmaps, core, strict=True)],
        "core_area": [float(c.mean()) for c in core],
    }


def miou_table(
    heatmaps: np.ndarray, core: np.ndarray, correct: np.ndarray
) -> dict[str, dict[str, float]]:
    """mIoU with the core and the spurious region, and the core area (chance), per group."""
    table = {}
    for group, members in zip(GROUPS, (correct, ~correct), strict=True):
        table[group] = {
            "miou_core": mean_iou(heatmaps[members], core[members]),
            "miou_spurious": mean_iou(heatmaps[members], ~core[members]),
            "core_area": float(core[members].mean()) if members.any() else float("nan"),
            "n": int(members.sum()),
        }
    return table


def gallery(
    images: np.ndarray,
    discriminative: np.ndarray,
    lowly: np.ndarray,
    core: np.ndarray,
    correct: np.ndarray,
    out: Path,
) -> None:
    """001 Fig. 6 / A.11 style, one row per sample: the image, the heatmap of its discriminative
    features, the heatmap of a lowly activating feature, and the core mask."""
    if len(images) == 0:
        message_figure("no sample has a highly activating discriminative feature", out)
        return
    titles = ("image", "discriminative features", "lowly activating feature", "core mask")
    fig, axes = plt.subplots(len(images), 4, figsize=(8, 2 * len(images)), squeeze=False)
    for r, picture in enumerate(images.transpose(0, 2, 3, 1)):
        for c, ax in enumerate(axes[r]):
            if c in (1, 2):
                ax.imshow(picture)
                ax.imshow((discriminative, lowly)[c - 1][r], cmap="jet", alpha=0.5)
            else:
                ax.imshow(picture if c == 0 else core[r], cmap=None if c == 0 else "gray")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(titles[c] if r == 0 else "", fontsize=8)
        axes[r, 0].set_ylabel(GROUPS[0] if correct[r] else GROUPS[1], fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def gallery_samples(correct: np.ndarray, per_group: int) -> np.ndarray:
    """The first ``per_group`` correct and the first ``per_group`` misclassified indices."""
    return np.concatenate(
        [np.flatnonzero(correct)[:per_group], np.flatnonzero(~correct)[:per_group]]
    )


def message_figure(text: str, out: Path) -> None:
    """A figure that only says ``text`` (where there is nothing to draw)."""
    fig, ax = plt.subplots(figsize=(4, 1))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, wrap=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


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
    feats = torch.load(features_path, weights_only=True)
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
        write_json(summary_out, with_provenance(summary, params))
        mlflow.log_artifact(str(summary_out))
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
