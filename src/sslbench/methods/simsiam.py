"""SimSiam (Chen & He 2021, "Exploring Simple Siamese Representation Learning").

Encoder f (backbone + projector), predictor h; the loss is the symmetrised negative cosine
with a stop-gradient on the targets, L = ½·D(p₁, stopgrad(z₂)) + ½·D(p₂, stopgrad(z₁)),
D(p, z) = −cos(p, z) (eqs. 1 and 3–4). Lightly's ``NegativeCosineSimilarity``,
``SimSiamProjectionHead`` (3 layers, BN on every layer, none of them affine on the output) and
``SimSiamPredictionHead`` (2 layers with a bottleneck). No momentum encoder, no negatives.
The predictor's learning rate stays fixed at the base lr (the paper's §4.4; solo-learn's
``static_lr`` predictor group), while the encoder's follows the warm-up/cosine schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from lightly.loss import NegativeCosineSimilarity
from lightly.models.modules import SimSiamPredictionHead, SimSiamProjectionHead

from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class SimSiamSpec:
    """Hyper-parameters (defaults: the paper and solo-learn's CIFAR recipe ``simsiam.yaml``:
    2048-d projector, 512-d predictor bottleneck)."""

    projection_hidden_dim: int = 2048
    projection_dim: int = 2048
    prediction_hidden_dim: int = 512


class SimSiam(SSLMethod):
    name = "simsiam"

    def __init__(self, backbone: ResNet, spec: SimSiamSpec) -> None:
        projector = SimSiamProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.predictor = SimSiamPredictionHead(
            spec.projection_dim, spec.prediction_hidden_dim, spec.projection_dim
        )
        self.criterion = NegativeCosineSimilarity()

    def static_lr_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.predictor.parameters())

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        x0, x1 = views
        z0 = self.embedding(self.representation(x0))
        z1 = self.embedding(self.representation(x1))
        p0, p1 = self.predictor(z0), self.predictor(z1)
        return 0.5 * self.criterion(p0, z1.detach()) + 0.5 * self.criterion(p1, z0.detach())
