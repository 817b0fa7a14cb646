"""Momentum (EMA) target networks shared by MoCo v2, BYOL and DINO.

MoCo's key encoder (He et al. 2020, eq. 2), BYOL's target network (Grill et al. 2020, §3.1)
and DINO's teacher (Caron et al. 2021, §3.1) are copies of online modules updated after every
optimiser step as θ_target ← τ·θ_target + (1 − τ)·θ_online (lightly's ``update_momentum``).
Their parameters have ``requires_grad`` False (lightly's ``deactivate_requires_grad``), so they
receive no gradient and the optimiser (built over trainable parameters) leaves them alone, yet
they are module parameters and saved in ``state_dict()``, as are the targets' BatchNorm
statistics, which the targets' own forward passes update.

The EMA rate follows the method's schedule (τ from ``base`` to ``final`` by the cosine of BYOL
§3.2) and keeps the recipe's decay per epoch: a recipe's τ is given for its own number of
steps per epoch (solo-learn's CIFAR recipes: 50,000 images / batch 256 = 195.3), and a run
with fewer steps per epoch (5,000 images at batch 256: 19) applies τ^(S_recipe / S_run) per
step, so after one epoch the target keeps τ^S_recipe of its old weights in both runs.
Unscaled, the recipe's DINO τ = 0.9995 averages over 2,000 steps, five times the whole 380
steps of the CPU default, and the teacher hardly leaves its initialisation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from lightly.models.utils import deactivate_requires_grad, update_momentum
from torch import nn

from sslbench.methods.schedules import cosine_increase


@dataclass(frozen=True)
class EMASchedule:
    """τ from ``base`` to ``final`` over training, given for ``recipe_steps_per_epoch`` steps
    per epoch."""

    base: float
    final: float
    recipe_steps_per_epoch: float

    def tau(self, progress: float, steps_per_epoch: int | None) -> float:
        """The per-step τ at ``progress`` for a run of ``steps_per_epoch`` steps per epoch (None,
        outside a training run: the recipe's τ as given)."""
        tau = cosine_increase(progress, self.base, self.final)
        if steps_per_epoch is None:
            return tau
        return tau ** (self.recipe_steps_per_epoch / steps_per_epoch)


def ema_schedule(spec: Any) -> EMASchedule:
    """The EMA schedule of a method spec with ``base_momentum``, ``final_momentum`` and
    ``recipe_steps_per_epoch`` (MoCo v2, BYOL, DINO)."""
    return EMASchedule(spec.base_momentum, spec.final_momentum, spec.recipe_steps_per_epoch)


class MomentumTarget(nn.Module):
    """Frozen copies of ``online`` modules, applied in sequence, updated by EMA.

    ``blank`` gives freshly built modules of the same architectures to copy the online weights
    into, for modules that ``copy.deepcopy`` cannot copy (lightly's DINO head uses
    ``nn.utils.weight_norm``, whose computed weight is not a graph leaf); by default the online
    modules are deep-copied.
    """

    def __init__(
        self,
        online: Sequence[nn.Module],
        schedule: EMASchedule,
        blank: Sequence[nn.Module] | None = None,
    ):
        super().__init__()
        self.schedule = schedule
        self.steps_per_epoch: int | None = None  # set by the training loop (on_train_start)
        copies = [copy.deepcopy(m) for m in online] if blank is None else list(blank)
        for target, source in zip(copies, online, strict=True):
            target.load_state_dict(source.state_dict())
        self.copies = nn.Sequential(*copies)
        deactivate_requires_grad(self.copies)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.copies(x)

    @torch.no_grad()
    def update(self, online: Sequence[nn.Module], progress: float) -> None:
        """θ_target ← τ·θ_target + (1 − τ)·θ_online for each online module, in order, with τ
        the schedule's at ``progress`` (the fraction of training done)."""
        tau = self.schedule.tau(progress, self.steps_per_epoch)
        for source, target in zip(online, self.copies, strict=True):
            update_momentum(source, target, tau)
