"""Optimisers and the warmup-cosine learning-rate schedule used for pretraining.

LARS (You et al. 2017) with linear warmup and cosine annealing is the SimCLR / solo-learn
recipe; SGD and Adam (003 SparseHead uses Adam) are available through the same config block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from lightly.utils.lars import LARS
from torch import nn

OPTIMIZERS = ("lars", "sgd", "adam")


@dataclass(frozen=True)
class OptimSpec:
    name: str = "lars"
    lr: float = 0.4
    weight_decay: float = 1e-5
    momentum: float = 0.9
    warmup_epochs: float = 10.0


def _exclude_from_decay(name: str, param: nn.Parameter) -> bool:
    """Biases and normalisation parameters get no weight decay nor LARS adaptation (SimCLR)."""
    return param.ndim <= 1 or name.endswith(".bias")


def build_optimizer(model: nn.Module, spec: OptimSpec) -> torch.optim.Optimizer:
    """Optimiser over ``model``'s trainable parameters, as named by ``spec.name``."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if not _exclude_from_decay(n, p)]
    no_decay = [p for n, p in named if _exclude_from_decay(n, p)]
    if spec.name == "lars":
        groups = [
            {"params": decay, "weight_decay": spec.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},  # lightly skips LARS scaling at wd 0
        ]
        return LARS(groups, lr=spec.lr, momentum=spec.momentum)
    groups = [
        {"params": decay, "weight_decay": spec.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if spec.name == "sgd":
        return torch.optim.SGD(groups, lr=spec.lr, momentum=spec.momentum)
    if spec.name == "adam":
        return torch.optim.Adam(groups, lr=spec.lr)
    raise ValueError(f"optimizer.name: unknown {spec.name!r}; allowed {list(OPTIMIZERS)}")


def warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    """Multiplier of the base learning rate: linear warmup, then cosine decay to 0."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup_steps) / span)))
