"""SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual
Representations").

Loss: NT-Xent / InfoNCE over the 2N views of a batch (eq. 1 of the paper; 000 eq. (1)), with
cosine similarity divided by the temperature τ (:class:`~sslbench.losses.infonce.NTXent`, equal
to lightly's ``NTXentLoss``) and lightly's ``SimCLRProjectionHead`` (Linear–BN–ReLU–Linear).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from lightly.models.modules import SimCLRProjectionHead

from sslbench.losses.infonce import NTXent
from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class SimCLRSpec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe)."""

    temperature: float = 0.2
    projection_hidden_dim: int = 2048
    projection_dim: int = 256


class SimCLR(SSLMethod):
    name = "simclr"

    def __init__(self, backbone: ResNet, spec: SimCLRSpec) -> None:
        projector = SimCLRProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.spec = spec
        self.criterion = NTXent(spec.temperature)

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        # Both views go through one forward pass, so BatchNorm sees all 2N images as in SimCLR.
        z0, z1 = self.embedding(self.representation(torch.cat(list(views)))).chunk(2)
        return self.criterion(z0, z1)
