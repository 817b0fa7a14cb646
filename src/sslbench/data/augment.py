"""SimCLR-style augmentations applied batched on uint8 image tensors.

The pipeline follows SimCLR (Chen et al. 2020, App. A) and solo-learn's CIFAR recipes
(``scripts/pretrain/cifar/augmentations/*.yaml``): random resized crop, horizontal flip, colour
jitter (brightness, contrast, saturation, hue) applied with probability p, random grayscale,
Gaussian blur and solarisation, each with its own probability; asymmetric recipes (BYOL) give
each view its own :class:`AugmentSpec`. Every operation acts on a whole batch at once with
per-sample random parameters drawn from one ``torch.Generator``, so no per-image PIL work runs in
the training loop and the same seed gives the same views.

Two documented approximations of torchvision's per-image transforms: the crop box is clamped to
the image instead of being re-drawn, and hue is rotated in YIQ space rather than shifted in HSV;
jitter operations run in a fixed order (brightness, contrast, saturation, hue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma weights, as torchvision's rgb_to_grayscale.
LUMA = (0.299, 0.587, 0.114)
RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)


@dataclass(frozen=True)
class AugmentSpec:
    """Parameters of the view distribution (SimCLR App. A; solo-learn CIFAR recipe)."""

    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.1
    grayscale_p: float = 0.2
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    solarize_p: float = 0.0
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.25, 0.25, 0.25)


def augment_spec(params: dict[str, Any]) -> AugmentSpec:
    """AugmentSpec from one full ``augment`` block (YAML lists become tuples)."""
    return AugmentSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})


def view_specs(views: list[dict[str, Any]]) -> tuple[AugmentSpec, ...]:
    """One AugmentSpec per view entry of a run's ``augment`` list (see sslbench.recipes)."""
    return tuple(augment_spec(view) for view in views)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) → float32 in [0, 1]."""
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(
            f"expected uint8 images of shape (B, 3, H, W), got {images.dtype} {tuple(images.shape)}"
        )
    return images.float().div_(255.0)


def normalise(x: torch.Tensor, spec: AugmentSpec) -> torch.Tensor:
    """Channel-wise (x − mean) / std."""
    mean = _like(torch.tensor(spec.mean), x).view(1, 3, 1, 1)
    std = _like(torch.tensor(spec.std), x).view(1, 3, 1, 1)
    return (x - mean) / std


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of float images (B, 3, H, W) → (B, 1, H, W)."""
    w = _like(torch.tensor(LUMA), x).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def _on(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``t`` (drawn on the CPU generator, so a seed gives the same views on any device) on
    ``x``'s device, without waiting for the device: a blocking copy would sync every step."""
    return t.to(x.device, non_blocking=True)


def _like(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``t`` in ``x``'s dtype on ``x``'s device (see :func:`_on`)."""
    return t.to(x.device, x.dtype, non_blocking=True)


def _uniform(n: int, low: float, high: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) * (high - low) + low


def _bernoulli(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) < p


def resized_crop_flip(
    x: torch.Tensor, size: int, spec: AugmentSpec, g: torch.Generator
) -> torch.Tensor:
    """Random resized crop + horizontal flip of every image, as one batched ``grid_sample``."""
    n = x.shape[0]
    area = _uniform(n, *spec.crop_scale, g)
    log_ratio = _uniform(n, math.log(spec.crop_ratio[0]), math.log(spec.crop_ratio[1]), g)
    ratio = torch.exp(log_ratio)
    width = torch.sqrt(area * ratio).clamp(max=1.0)
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    centre_x = (_uniform(n, -1.0, 1.0, g)) * (1.0 - width)
    centre_y = (_uniform(n, -1.0, 1.0, g)) * (1.0 - height)
    flip = torch.where(_bernoulli(n, spec.flip_p, g), -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = width * flip
    theta[:, 0, 2] = centre_x
    theta[:, 1, 1] = height
    theta[:, 1, 2] = centre_y
    grid = F.affine_grid(_on(theta, x), [n, 3, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def colour_jitter(x: torch.Tensor, spec: AugmentSpec, g: torch.Generator) -> torch.Tensor:
    """Brightness, contrast, saturation and hue jitter, each sample with probability ``jitter_p``.

    Samples that are not jittered get the identity factors (1, 1, 1, 0).
    """
    n = x.shape[0]
    on = _bernoulli(n, spec.jitter_p, g).float()

    def factor(strength: float) -> torch.Tensor:
        f = _uniform(n, max(0.0, 1.0 - strength), 1.0 + strength, g)
        return _on((on * f + (1.0 - on)).view(n, 1, 1, 1), x)

    brightness, contrast, saturation = (
        factor(spec.brightness),
        factor(spec.contrast),
        factor(spec.saturation),
    )
    hue = _on((on * _uniform(n, -spec.hue, spec.hue, g)).view(n), x)
    x = (x * brightness).clamp_(0.0, 1.0)
    mean = grayscale(x).mean(dim=(2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean).clamp_(0.0, 1.0)
    gray = grayscale(x)
    x = ((x - gray) * saturation + gray).clamp_(0.0, 1.0)
    return rotate_hue(x, hue).clamp_(0.0, 1.0)


def rotate_hue(x: torch.Tensor, hue: torch.Tensor) -> torch.Tensor:
    """Rotate the chroma plane (I, Q) of YIQ by ``2π·hue`` turns per sample."""
    angle = 2.0 * math.pi * hue
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(hue.shape[0], 3, 3, device=x.device)
    rot[:, 0, 0] = 1.0
    rot[:, 1, 1], rot[:, 1, 2] = cos, -sin
    rot[:, 2, 1], rot[:, 2, 2] = sin, cos
    mix = _like(YIQ_TO_RGB, x) @ rot.to(x.dtype) @ _like(RGB_TO_YIQ, x)
    return torch.einsum("bij,bjhw->bihw", mix, x)


def random_grayscale(x: torch.Tensor, p: float, g: torch.Generator) -> torch.Tensor:
    """Replace each image by its luma (3 channels) with probability ``p``."""
    on = _on(_bernoulli(x.shape[0], p, g).view(-1, 1, 1, 1), x)
    return torch.where(on, grayscale(x).expand_as(x), x)


def gaussian_blur(x: torch.Tensor, spec: AugmentSpec, g: torch.Generator) -> torch.Tensor:
    """Blur each image with probability ``blur_p`` by a Gaussian of σ ~ U(blur_sigma) pixels
    (torchvision/PIL ``GaussianBlur(radius=σ)``), as one separable depthwise convolution.

    The kernel spans ±3σ_max (at least one pixel) with reflected borders; images that are not
    blurred get σ → 0, a unit impulse."""
    n, c, h, w = x.shape
    on = _bernoulli(n, spec.blur_p, g)
    sigma = torch.where(on, _uniform(n, *spec.blur_sigma, g), torch.zeros(n))
    radius = max(1, min(math.ceil(3 * spec.blur_sigma[1]), min(h, w) - 1))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    logits = -(offsets**2) / (2 * sigma.clamp(min=1e-3).view(n, 1) ** 2)
    kernel = _like(torch.softmax(logits, dim=1).repeat_interleave(c, dim=0), x)  # (n·c, k)
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(
        F.pad(flat, (radius, radius, 0, 0), mode="reflect"),
        kernel.view(n * c, 1, 1, -1),
        groups=n * c,
    )
    flat = F.conv2d(
        F.pad(flat, (0, 0, radius, radius), mode="reflect"),
        kernel.view(n * c, 1, -1, 1),
        groups=n * c,
    )
    return flat.view(n, c, h, w)


def solarize(x: torch.Tensor, p: float, g: torch.Generator) -> torch.Tensor:
    """Invert every value ≥ 0.5 (PIL ``ImageOps.solarize``, threshold 128) with probability p."""
    on = _on(_bernoulli(x.shape[0], p, g).view(-1, 1, 1, 1), x)
    return torch.where(on & (x >= 0.5), 1.0 - x, x)


class BatchAugment:
    """Draws one random view of every image in a uint8 batch.

    The random parameters are drawn on the CPU from ``g`` (so a seed gives the same views on
    every device); the images are transformed where they are, CPU or GPU."""

    def __init__(self, spec: AugmentSpec, image_size: int) -> None:
        self.spec = spec
        self.image_size = image_size

    def __call__(self, images: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        x = resized_crop_flip(to_float(images), self.image_size, self.spec, g)
        x = colour_jitter(x, self.spec, g)
        x = random_grayscale(x, self.spec.grayscale_p, g)
        if self.spec.blur_p > 0:  # no draws when off: recipes without blur keep their views
            x = gaussian_blur(x, self.spec, g)
        if self.spec.solarize_p > 0:
            x = solarize(x, self.spec.solarize_p, g)
        return normalise(x, self.spec)


class ViewAugment:
    """Per-view augmentations: view v is drawn with ``specs[v % len(specs)]`` (one spec for a
    symmetric recipe, one per view for an asymmetric one such as BYOL's)."""

    def __init__(self, specs: tuple[AugmentSpec, ...], image_size: int) -> None:
        self.views = [BatchAugment(spec, image_size) for spec in specs]

    def __call__(self, images: torch.Tensor, view: int, g: torch.Generator) -> torch.Tensor:
        return self.views[view % len(self.views)](images, g)


def evaluation_view(images: torch.Tensor, spec: AugmentSpec) -> torch.Tensor:
    """The deterministic view used for feature extraction: scale to [0, 1] and normalise."""
    return normalise(to_float(images), spec)
