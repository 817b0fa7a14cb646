"""SwAV (Caron et al. 2020, "Unsupervised Learning of Visual Features by Contrasting Cluster
Assignments").

The ℓ2-normalised projections z of each view are scored against K prototypes c_k (unit
vectors, re-normalised before every step); codes q are computed from the scores of a view by
the Sinkhorn–Knopp algorithm under the equipartition constraint (eq. 3 and §3.1, 3 iterations,
ε = 0.05), and each view predicts the other view's codes (the swapped prediction problem,
eqs. 1–2): L = ℓ(z₁, q₂) + ℓ(z₂, q₁), ℓ(z, q) = −Σ_k q_k log softmax_k(zᵀC/τ). Lightly's
``SwaVProjectionHead``, ``SwaVPrototypes`` and ``SwaVLoss`` (Sinkhorn inside, averaged over the
views). The prototypes have no bias (the paper's scores are zᵀc_k; lightly's layer has one,
kept at zero and frozen). Their gradients are dropped during the first
``freeze_prototypes_fraction`` of training (App. A: the prototypes are frozen during the first
epoch), through :meth:`before_optimizer_step`.

Optional queue (``queue_length`` > 0): the projections of past batches, one queue per view,
join the current batch in the Sinkhorn step (§4.3, for small batches) once
``queue_start_fraction`` of training is done and the queue is full. It is off by default at CPU
scale. Multi-crop is not used: the training loop gives two global views (no low-resolution
crops), so ``SwaVLoss`` gets no ``low_resolution_outputs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from lightly.loss import SwaVLoss
from lightly.models.modules import SwaVProjectionHead, SwaVPrototypes

from sslbench.methods.base import SSLMethod
from sslbench.methods.schedules import HostCopies, Progress
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class SwAVSpec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe ``swav.yaml``: 2048–128 head,
    3000 prototypes, τ = 0.1, prototypes frozen for 2 of 1000 epochs; Sinkhorn settings from the
    paper. solo-learn's queue of 3840 from epoch 50 is off here: ``queue_length`` = 0)."""

    temperature: float = 0.1
    projection_hidden_dim: int = 2048
    projection_dim: int = 128
    num_prototypes: int = 3000
    sinkhorn_iterations: int = 3
    sinkhorn_epsilon: float = 0.05
    freeze_prototypes_fraction: float = 0.002
    queue_length: int = 0
    queue_start_fraction: float = 0.05


class SwAV(HostCopies, SSLMethod):
    name = "swav"

    def __init__(self, backbone: ResNet, spec: SwAVSpec) -> None:
        projector = SwaVProjectionHead(
            backbone.output_dim, spec.projection_hidden_dim, spec.projection_dim
        )
        super().__init__(backbone, projector)
        self.spec = spec
        self.prototypes = SwaVPrototypes(spec.projection_dim, spec.num_prototypes)
        for layer in self.prototypes.heads:
            torch.nn.init.zeros_(layer.bias)
            layer.bias.requires_grad_(False)
        self.criterion = SwaVLoss(
            temperature=spec.temperature,
            sinkhorn_iterations=spec.sinkhorn_iterations,
            sinkhorn_epsilon=spec.sinkhorn_epsilon,
        )
        self.progress = Progress()
        self.queue: torch.Tensor
        self.queue_filled: torch.Tensor
        self.register_buffer("queue", torch.zeros(2, spec.queue_length, spec.projection_dim))
        self.register_buffer("queue_filled", torch.zeros((), dtype=torch.long))

    def embedding(self, h: torch.Tensor) -> torch.Tensor:
        """z = g(h) / ‖g(h)‖, the unit-norm projection scored against the prototypes."""
        return F.normalize(self.projector(h), dim=1)

    def queue_active(self) -> bool:
        """Whether the queue joins the Sinkhorn step now (enabled, started and full)."""
        length = self.spec.queue_length
        return (
            length > 0
            and float(self.progress) >= self.spec.queue_start_fraction
            and self.scalar("queue_filled") >= length
        )

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        self.prototypes.normalize()
        z = [self.embedding(self.representation(x)) for x in views]
        scores = [self.prototypes(zi) for zi in z]
        queue_scores = None
        if self.queue_active():
            with torch.no_grad():
                queue_scores = [self.prototypes(q) for q in self.queue]
        loss = self.criterion(scores, [], queue_scores)
        if self.spec.queue_length > 0 and self.training:
            self._enqueue(torch.stack(z).detach())
        return loss.squeeze(0)

    @torch.no_grad()
    def _enqueue(self, z: torch.Tensor) -> None:
        """Push the batch (views, N, d) in front of each view's queue, dropping the oldest."""
        n = min(z.shape[1], self.spec.queue_length)
        self.queue[:, n:] = self.queue[:, :-n].clone()
        self.queue[:, :n] = z[:, :n]
        filled = min(int(self.scalar("queue_filled")) + n, self.spec.queue_length)
        self.set_scalar("queue_filled", filled)

    def before_optimizer_step(self, progress: float) -> None:
        if progress < self.spec.freeze_prototypes_fraction:
            for param in self.prototypes.parameters():
                param.grad = None

    def on_step_end(self, progress: float) -> None:
        self.progress.set(progress)
