"""How far a fine-tune moved its encoder from the checkpoint it started at.

The relative weight change ‖θ − θ₀‖ / ‖θ₀‖ over the backbone's parameters (the encoder f whose
output h every analysis reads); the share of test predictions that changed is computed from the
evaluate stage's per-sample predictions (``sslbench.analysis``), since it needs the probe.
"""

from __future__ import annotations

import torch
from torch import nn


def parameter_snapshot(module: nn.Module) -> list[torch.Tensor]:
    """A detached CPU copy of ``module``'s parameters, in order."""
    return [p.detach().to("cpu", copy=True) for p in module.parameters()]


def relative_weight_change(module: nn.Module, start: list[torch.Tensor]) -> float:
    """‖θ − θ₀‖ / ‖θ₀‖ with θ all of ``module``'s parameters flattened into one vector."""
    now = [p.detach().to("cpu", torch.float64) for p in module.parameters()]
    if len(now) != len(start):
        raise ValueError(f"snapshot has {len(start)} tensors, the module {len(now)}")
    diff = torch.sqrt(sum(((a - b.double()) ** 2).sum() for a, b in zip(now, start, strict=True)))
    norm = torch.sqrt(sum((b.double() ** 2).sum() for b in start))
    return float(diff / norm)
