"""Interpretability of discriminative features: GradCAM heatmaps and their mIoU with the core
and spurious regions of an image (001 §"Quantifying Representation Interpretability", Fig. 6–7).

For sample i the heatmap of its discriminative features is the sum of the GradCAM maps
(Selvaraju et al. 2019; the ``grad-cam`` package) of every feature ``j ∈ L_i ∩ D``, each
computed with the scalar ``h_ij`` as the target at the backbone's last convolutional stage
("combining each individual feature heatmap", 001). 001 then defines

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

import numpy as np
import torch
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn


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
