"""Feature extraction: representations h = f(x) (before the projector) and embeddings z = g(h)."""

from __future__ import annotations

import torch

from sslbench.data.augment import AugmentSpec, evaluation_view
from sslbench.methods.base import SSLMethod


@torch.no_grad()
def extract_features(
    method: SSLMethod, images: torch.Tensor, augment: AugmentSpec, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (h, z) for uint8 ``images`` (N, 3, H, W), model in evaluation mode."""
    method.eval()
    hs, zs = [], []
    for start in range(0, images.shape[0], batch_size):
        x = evaluation_view(images[start : start + batch_size], augment)
        h = method.representation(x)
        hs.append(h)
        zs.append(method.embedding(h))
    return torch.cat(hs), torch.cat(zs)
