"""BYOL (Grill et al. 2020, "Bootstrap Your Own Latent: A New Approach to Self-Supervised
Learning").

The online network (encoder f, projector g, predictor q) predicts the target network's
projection of the other view: L = ‖q̄(z₁) − z̄′₂‖² = 2 − 2·cos(q(z₁), z′₂) (eq. 2), symmetrised
by swapping the views (L^BYOL = L + L̃, §3.1), with a stop-gradient on the target. The cosine
is lightly's ``NegativeCosineSimilarity``; projector and predictor are lightly's
``BYOLProjectionHead`` / ``BYOLPredictionHead`` (Linear–BN–ReLU–Linear). The target (f′, g′)
is the EMA of (f, g), updated after each optimiser step with τ = 1 − (1 − τ_base)(cos(πk/K)+1)/2
(§3.2), i.e. a cosine from ``base_momentum`` to ``final_momentum`` = 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from lightly.loss import NegativeCosineSimilarity
from lightly.models.modules import BYOLPredictionHead, BYOLProjectionHead

from sslbench.methods.base import SSLMethod
from sslbench.methods.momentum import MomentumTarget, ema_schedule
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class BYOLSpec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe ``byol.yaml``; the paper's τ_base
    is 0.996 on ImageNet)."""

    projection_hidden_dim: int = 4096
    projection_dim: int = 256
    prediction_hidden_dim: int = 4096
    base_momentum: float = 0.99
    final_momentum: float = 1.0
    recipe_steps_per_epoch: float = 195.3125  # 50,000 images / batch 256


class BYOL(SSLMethod):
    name = "byol"

    def __init__(self, backbone: ResNet, spec: BYOLSpec) -> None:
        projector = BYOLProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.spec = spec
        self.predictor = BYOLPredictionHead(
            spec.projection_dim, spec.prediction_hidden_dim, spec.projection_dim
        )
        self.target = MomentumTarget([self.backbone, self.projector], ema_schedule(spec))
        self.criterion = NegativeCosineSimilarity()

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        x0, x1 = views
        p0 = self.predictor(self.embedding(self.representation(x0)))
        p1 = self.predictor(self.embedding(self.representation(x1)))
        t0, t1 = self.target(x0), self.target(x1)  # no gradient: stop-gradient on the target
        return (2 + 2 * self.criterion(p0, t1)) + (2 + 2 * self.criterion(p1, t0))

    def on_step_end(self, progress: float) -> None:
        self.target.update([self.backbone, self.projector], progress)
