"""DINO with a ResNet backbone (Caron et al. 2021, "Emerging Properties in Self-Supervised
Vision Transformers").

Self-distillation without labels: the student's softmax over K prototype scores, with
temperature τ_s, predicts the teacher's centred and sharpened softmax (temperature τ_t) of the
other view, H(P_t(x₂), P_s(x₁)) + H(P_t(x₁), P_s(x₂)) (eq. 1 and Alg. 1), computed by lightly's
``DINOLoss``, which also keeps the centre c ← m·c + (1 − m)·mean(teacher outputs) (eq. 4) in a
buffer. The teacher (backbone + head) is the EMA of the student, λ following a cosine from
``base_momentum`` to ``final_momentum`` = 1 (§3.1, App. A); τ_t warms up linearly from
``warmup_teacher_temp`` over the first ``warmup_teacher_temp_fraction`` of training (App. A).
The head is lightly's ``DINOProjectionHead`` (3-layer MLP with GELU, optional BatchNorm, ℓ2
normalisation, weight-normalised prototype layer with fixed norm); ``batch_norm`` is DINO's
``--use_bn_in_head`` (off by default, as in the paper and solo-learn; lightly's ResNet
benchmarks turn it on). z is the ℓ2-normalised bottleneck that enters the prototype layer (as
SwAV's z). The weight-normalised layer cannot be deep-copied, so the teacher head is built anew
and loaded with the student's weights.

Only two global views, no local crops (the training loop gives two views at CPU scale), no
last-layer freezing nor gradient clipping (the ViT stabilisers of the paper).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from lightly.loss import DINOLoss
from lightly.models.modules import DINOProjectionHead

from sslbench.methods.base import SSLMethod
from sslbench.methods.momentum import MomentumTarget, ema_schedule
from sslbench.methods.schedules import Progress, linear_warmup
from sslbench.models.resnet import ResNet


@dataclass(frozen=True)
class DINOSpec:
    """Hyper-parameters (defaults: solo-learn's CIFAR recipe ``dino.yaml`` and its method
    defaults: 2048–256 head, 4096 prototypes, τ_s = 0.1, τ_t 0.04 → 0.07, EMA 0.9995 → 1;
    the paper: teacher warmup over 30 of 300 epochs, centre momentum 0.9, EMA 0.996 → 1)."""

    projection_hidden_dim: int = 2048
    projection_dim: int = 256
    num_prototypes: int = 4096
    batch_norm: bool = False
    student_temp: float = 0.1
    teacher_temp: float = 0.07
    warmup_teacher_temp: float = 0.04
    warmup_teacher_temp_fraction: float = 0.1
    center_momentum: float = 0.9
    base_momentum: float = 0.9995
    final_momentum: float = 1.0
    recipe_steps_per_epoch: float = 195.3125  # 50,000 images / batch 256


def _head(input_dim: int, spec: DINOSpec) -> DINOProjectionHead:
    return DINOProjectionHead(
        input_dim,
        spec.projection_hidden_dim,
        spec.projection_dim,
        spec.num_prototypes,
        batch_norm=spec.batch_norm,
    )


class DINO(SSLMethod):
    name = "dino"

    def __init__(self, backbone: ResNet, spec: DINOSpec) -> None:
        super().__init__(backbone, _head(backbone.output_dim, spec))
        self.spec = spec
        self.teacher = MomentumTarget(
            [self.backbone, self.projector],
            ema_schedule(spec),
            blank=[copy.deepcopy(backbone), _head(backbone.output_dim, spec)],
        )
        self.criterion = DINOLoss(
            output_dim=spec.num_prototypes,
            warmup_teacher_temp=spec.warmup_teacher_temp,
            teacher_temp=spec.teacher_temp,
            student_temp=spec.student_temp,
            center_momentum=spec.center_momentum,
        )
        self.progress = Progress()

    def embedding(self, h: torch.Tensor) -> torch.Tensor:
        """z: the ℓ2-normalised bottleneck of the head, input of the prototype layer."""
        return F.normalize(self.projector.layers(h), dim=-1)

    def teacher_temperature(self) -> float:
        """τ_t at the current point of training (linear warmup, then constant)."""
        s = self.spec
        return linear_warmup(
            float(self.progress),
            s.warmup_teacher_temp,
            s.teacher_temp,
            s.warmup_teacher_temp_fraction,
        )

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        student = [self.projector(self.representation(x)) for x in views]
        teacher = [self.teacher(x) for x in views]
        # DINOLoss skips same-view pairs and updates its centre with the teacher outputs.
        return self.criterion(teacher, student, teacher_temp=self.teacher_temperature())

    def on_step_end(self, progress: float) -> None:
        self.progress.set(progress)
        self.teacher.update([self.backbone, self.projector], progress)
