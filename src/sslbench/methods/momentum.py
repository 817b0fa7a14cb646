"""Momentum (EMA) target networks shared by MoCo v2, BYOL and DINO.

MoCo's key encoder (He et al. 2020, eq. 2), BYOL's target network (Grill et al. 2020, §3.1)
and DINO's teacher (Caron et al. 2021, §3.1) are copies of online modules updated after every
optimiser step as θ_target ← τ·θ_target + (1 − τ)·θ_online (lightly's ``update_momentum``).
Their parameters have ``requires_grad`` False (lightly's ``deactivate_requires_grad``), so they
receive no gradient and the optimiser (built over trainable parameters) leaves them alone, yet
they are module parameters and saved in ``state_dict()``, as are the targets' BatchNorm
statistics, which the targets' own forward passes update.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from lightly.models.utils import deactivate_requires_grad, update_momentum
from torch import nn


class MomentumTarget(nn.Module):
    """Frozen copies of ``online`` modules, applied in sequence, updated by EMA.

    ``blank`` gives freshly built modules of the same architectures to copy the online weights
    into, for modules that ``copy.deepcopy`` cannot copy (lightly's DINO head uses
    ``nn.utils.weight_norm``, whose computed weight is not a graph leaf); by default the online
    modules are deep-copied.
    """

    def __init__(self, online: Sequence[nn.Module], blank: Sequence[nn.Module] | None = None):
        super().__init__()
        copies = [copy.deepcopy(m) for m in online] if blank is None else list(blank)
        for target, source in zip(copies, online, strict=True):
            target.load_state_dict(source.state_dict())
        self.copies = nn.Sequential(*copies)
        deactivate_requires_grad(self.copies)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.copies(x)

    @torch.no_grad()
    def update(self, online: Sequence[nn.Module], tau: float) -> None:
        """θ_target ← τ·θ_target + (1 − τ)·θ_online for each online module, in order."""
        for source, target in zip(online, self.copies, strict=True):
            update_momentum(source, target, tau)
