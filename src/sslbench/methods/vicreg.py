"""VICReg (Bardes, Ponce & LeCun 2022, "VICReg: Variance-Invariance-Covariance Regularization
for Self-Supervised Learning").

On the embeddings Z, Z′ of the two views (n × d): ℓ = λ·s(Z, Z′) + μ·[v(Z) + v(Z′)] +
ν·[c(Z) + c(Z′)] (eq. 6), with invariance s = mean squared distance (eq. 5), variance
v = mean_j max(0, 1 − √(Var(z_j) + ε)) (eq. 1) and covariance c = Σ_{i≠j} C(Z)²_ij / d
(eqs. 3–4), computed by :class:`sslbench.losses.vicreg.VICRegCriterion` (equal to lightly's
``VICRegLoss`` without its per-step host sync); the projector is lightly's
``VICRegProjectionHead`` (3 layers, BN–ReLU on the first two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from lightly.models.modules.heads import VICRegProjectionHead

from sslbench.losses.vicreg import VICRegCriterion
from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class VICRegSpec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe ``vicreg.yaml``; λ = μ = 25, ν = 1
    as in the paper, which uses an 8192-d projector on ImageNet)."""

    projection_hidden_dim: int = 2048
    projection_dim: int = 2048
    invariance_weight: float = 25.0
    variance_weight: float = 25.0
    covariance_weight: float = 1.0


class VICReg(SSLMethod):
    name = "vicreg"

    def __init__(self, backbone: ResNet, spec: VICRegSpec) -> None:
        projector = VICRegProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.criterion = VICRegCriterion(
            spec.invariance_weight, spec.variance_weight, spec.covariance_weight
        )

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        z0, z1 = (self.embedding(self.representation(x)) for x in views)
        return self.criterion(z0, z1)
