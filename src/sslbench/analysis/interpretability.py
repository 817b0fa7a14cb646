"""Interpretability of discriminative features: GradCAM heatmaps and their mIoU with the core
and spurious regions of an image (001 §"Quantifying Representation Interpretability", Fig. 6–7).

For sample i the heatmap of its discriminative features is the sum of the GradCAM maps
(Selvaraju et al. 2019; the ``grad-cam`` package) of every feature ``j ∈ L_i ∩ D``, each
computed with the scalar ``h_ij`` as the target at the backbone's last convolutional stage
("combining each individual feature heatmap", 001). The package min–max scales each map to
[0, 1] per image before it is returned, so every feature of ``L_i ∩ D`` weighs the same in the
sum whatever its gradient magnitude: 001 does not say how it combines the maps, and this
equal weighting is our reading. 001 then defines

    mIoU^core = 1/N Σ_i s(Ar_i ∩ Ar_i^core) / s(Ar_i ∪ Ar_i^core)        (same for ^sp)

with ``Ar_i`` the heatmap's area (its support) and ``s(·)`` the sum of the heatmap's pixel
values over an area. The heatmap is 0 outside ``Ar_i``, so the ratio is the share of the
heatmap's mass that falls inside the region. On Trifeature the core region is the shape mask
saved at generation and the spurious region is the background (its complement), so the two
shares add up to 1 and a uniform heatmap scores the region's area fraction (reported as the
chance level).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from sslbench.analysis.qscore import discriminative_from_config, highly_activating

#: The groups of test samples whose mIoU is reported: the probe's correct and misclassified.
GROUPS = ("correct", "misclassified")


class NoTarget:
    """A GradCAM target with zero gradient: its heatmap is all zeros (a sample with fewer
    features than the current slot)."""

    def __call__(self, model_output: torch.Tensor) -> torch.Tensor:
        return model_output.sum() * 0.0


def feature_heatmaps(
    encoder: nn.Module,
    target_layer: nn.Module,
    images: torch.Tensor,
    features: Sequence[Sequence[int]],
) -> np.ndarray:
    """Combined GradCAM heatmap of each image's ``features`` (indices into h = encoder(x)).

    Args:
        encoder: maps a float image batch to representations h (B, r); in eval mode.
        target_layer: the convolutional layer whose activations GradCAM weights.
        images: normalised float images (B, 3, H, W).
        features: for each image, the feature indices whose heatmaps are summed.

    Returns:
        float32 (B, H, W) heatmaps, non-negative; all-zero for an image with no features.
    """
    combined = np.zeros((images.shape[0], *images.shape[2:]), dtype=np.float32)
    slots = max((len(f) for f in features), default=0)
    with GradCAM(model=encoder, target_layers=[target_layer]) as cam:
        for slot in range(slots):
            targets = [
                ClassifierOutputTarget(int(f[slot])) if slot < len(f) else NoTarget()
                for f in features
            ]
            combined += cam(input_tensor=images, targets=targets)
    return combined


def heatmap_iou(heatmap: np.ndarray, region: np.ndarray) -> float:
    """``s(Ar ∩ R) / s(Ar ∪ R)`` of 001 §"Quantifying Representation Interpretability" for one
    image: ``Ar`` the heatmap's support, ``R`` the boolean region, ``s`` the heatmap's mass.
    NaN when the heatmap has no mass (the ratio is undefined)."""
    area = heatmap > 0
    union = heatmap[area | region].sum()
    if union <= 0:
        return float("nan")
    return float(heatmap[area & region].sum() / union)


def mean_iou(heatmaps: np.ndarray, regions: np.ndarray) -> float:
    """mIoU over the images whose heatmap has mass (NaN if none has)."""
    values = np.array([heatmap_iou(h, r) for h, r in zip(heatmaps, regions, strict=True)])
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


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


def gallery_samples(correct: np.ndarray, per_group: int) -> np.ndarray:
    """The first ``per_group`` correct and the first ``per_group`` misclassified indices."""
    return np.concatenate(
        [np.flatnonzero(correct)[:per_group], np.flatnonzero(~correct)[:per_group]]
    )
