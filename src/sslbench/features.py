"""Feature extraction: representations h = f(x) (before the projector) and embeddings z = g(h)."""

from __future__ import annotations

import torch

from sslbench.data.augment import AugmentSpec, evaluation_view
from sslbench.device import CPU, Compute
from sslbench.methods.base import SSLMethod


@torch.no_grad()
def extract_features(
    method: SSLMethod,
    images: torch.Tensor,
    augment: AugmentSpec,
    batch_size: int,
    compute: Compute = CPU,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (h, z) in fp32 on the CPU for uint8 ``images`` (N, 3, H, W), model in evaluation
    mode on ``compute.device``."""
    method.eval().to(compute.device)
    hs, zs = [], []
    for start in range(0, images.shape[0], batch_size):
        x = evaluation_view(images[start : start + batch_size].to(compute.device), augment)
        with compute.autocast():
            h = method.representation(x)
            z = method.embedding(h)
        hs.append(h.float().cpu())
        zs.append(z.float().cpu())
    return torch.cat(hs), torch.cat(zs)
