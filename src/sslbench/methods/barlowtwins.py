"""Barlow Twins (Zbontar et al. 2021, "Barlow Twins: Self-Supervised Learning via Redundancy
Reduction").

The embeddings of the two views are standardised along the batch and their cross-correlation
C_ij = Σ_b z^A_bi z^B_bj / N is pushed to the identity:
L_BT = Σ_i (1 − C_ii)² + λ·Σ_i Σ_{j≠i} C_ij² (eqs. 1–2), computed by lightly's
``BarlowTwinsLoss``; the projector is lightly's ``BarlowTwinsProjectionHead`` (3 layers,
BN–ReLU on the first two). The loss is multiplied by ``scale_loss`` as in solo-learn (and the
authors' code, whose ``--scale-loss`` was 1/32 at first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from lightly.loss import BarlowTwinsLoss
from lightly.models.modules import BarlowTwinsProjectionHead

from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class BarlowTwinsSpec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe ``barlow.yaml`` and its default
    λ = 0.0051; the paper uses λ = 5·10⁻³ and an 8192-d projector on ImageNet)."""

    projection_hidden_dim: int = 2048
    projection_dim: int = 2048
    lambda_offdiagonal: float = 0.0051
    scale_loss: float = 0.1


class BarlowTwins(SSLMethod):
    name = "barlowtwins"

    def __init__(self, backbone: ResNet, spec: BarlowTwinsSpec) -> None:
        projector = BarlowTwinsProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.scale_loss = spec.scale_loss
        self.criterion = BarlowTwinsLoss(lambda_param=spec.lambda_offdiagonal)

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        z0, z1 = (self.embedding(self.representation(x)) for x in views)
        return self.scale_loss * self.criterion(z0, z1)
