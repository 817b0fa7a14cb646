"""The interface every SSL method implements to plug into the shared training loop."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sslbench.methods.momentum import MomentumTarget
from sslbench.models.resnet import ResNet


class SSLMethod(nn.Module):
    """An encoder f(·) (``backbone``), a projector g(·) and a loss on augmented views.

    Subclasses own their heads, loss and extra state (momentum encoders, queues, centres) and
    implement :meth:`loss`; :meth:`on_step_end` lets them update such state after each optimiser
    step. ``representation`` gives h = f(x) and ``embedding`` gives z = g(h), the two spaces
    analysed by the papers.
    """

    name: str = "base"
    views: int = 2

    def __init__(self, backbone: ResNet, projector: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = projector

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """h = f(x), the representation used downstream."""
        return self.backbone(x)

    def embedding(self, h: torch.Tensor) -> torch.Tensor:
        """z = g(h), the embedding the SSL loss acts on."""
        return self.projector(h)

    def loss(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def on_train_start(self, steps_per_epoch: int) -> None:
        """Tell the method its run's steps per epoch, before the first step: momentum targets
        convert their recipe's EMA rate to it (:class:`~sslbench.methods.momentum.EMASchedule`)."""
        for module in self.modules():
            if isinstance(module, MomentumTarget):
                module.steps_per_epoch = steps_per_epoch

    def static_lr_parameters(self) -> list[nn.Parameter]:
        """Parameters whose learning rate stays at the base lr, outside the warm-up/cosine
        schedule (none by default; SimSiam's predictor)."""
        return []

    def before_optimizer_step(self, progress: float) -> None:
        """Edit gradients after ``backward()``, before the optimiser steps (no-op by default).

        ``progress`` is the fraction of training done before this step (step / total steps);
        e.g. SwAV drops the prototypes' gradients during the first part of training.
        """

    def on_step_end(self, progress: float) -> None:
        """Update non-gradient state; ``progress`` is the fraction of training done."""
