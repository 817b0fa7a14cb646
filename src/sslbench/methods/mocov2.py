"""MoCo v2 (Chen, Fan, Girshick & He 2020, "Improved Baselines with Momentum Contrastive
Learning"), built on MoCo (He et al. 2020, "Momentum Contrast for Unsupervised Visual
Representation Learning").

A query q = g(f(x₁)) from the online encoder is contrasted with its key k₊ from the momentum
(key) encoder on the other view and with K negatives from a queue of past keys: InfoNCE,
L_q = −log exp(q·k₊/τ) / (exp(q·k₊/τ) + Σ_k exp(q·k/τ)) on ℓ2-normalised vectors (MoCo eq. 1),
computed by the project's one InfoNCE (:class:`sslbench.losses.infonce.InfoNCECriterion` with a
queue of K keys: the keys of each step are enqueued, the oldest dequeued; equal to lightly's
``NTXentLoss`` with a memory bank in tests/test_infonce.py), the same criterion the 002 / 004
variants put in its place. The key encoder is the EMA of the online one
(MoCo eq. 2), updated after each optimiser step with τ following a cosine from
``base_momentum`` to ``final_momentum`` (solo-learn's CIFAR recipe; the paper keeps 0.999).
MoCo v2's projector is lightly's ``MoCoProjectionHead`` (Linear–ReLU–Linear, no BatchNorm).

Single-process deviations: no Shuffle-BN (MoCo §3.3 needs several devices; the backbone's
BatchNorm sees the whole key batch), and the loss is the paper's asymmetric one (one query
view, one key view, one batch enqueued per step). The queue is a persistent buffer, so it is
saved with the model and a resumed run continues with the same negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from lightly.models.modules import MoCoProjectionHead

from sslbench.losses.infonce import InfoNCECriterion
from sslbench.methods.base import SSLMethod
from sslbench.methods.momentum import MomentumTarget, ema_schedule
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class MoCoV2Spec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe ``mocov2plus.yaml``; the paper
    uses a 2048–128 head, a 65,536-key queue and a constant momentum of 0.999)."""

    temperature: float = 0.2
    projection_hidden_dim: int = 2048
    projection_dim: int = 256
    queue_size: int = 32768
    base_momentum: float = 0.99
    final_momentum: float = 0.999
    recipe_steps_per_epoch: float = 195.3125  # 50,000 images / batch 256


class MoCoV2(SSLMethod):
    name = "mocov2"

    def __init__(self, backbone: ResNet, spec: MoCoV2Spec) -> None:
        projector = MoCoProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.spec = spec
        self.key_encoder = MomentumTarget([self.backbone, self.projector], ema_schedule(spec))
        self.criterion = InfoNCECriterion(
            spec.temperature, queue_size=spec.queue_size, dim=spec.projection_dim
        )

    @property
    def queue(self) -> torch.Tensor:
        """The queue of past keys (K, projection_dim), ℓ2-normalised."""
        return self.criterion.queue

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        x_query, x_key = views
        query = self.embedding(self.representation(x_query))
        key = self.key_encoder(x_key)
        # Enqueues the keys when the query carries a gradient (i.e. during training).
        return self.criterion(query, key)

    def on_step_end(self, progress: float) -> None:
        self.key_encoder.update([self.backbone, self.projector], progress)
