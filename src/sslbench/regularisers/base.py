"""The interface of a regulariser, composable with any SSL method it applies to.

A regulariser either adds a penalty to the method's loss (Lasso, Q-Score, SparseHead) or
replaces an InfoNCE method's criterion by a variant (IFM, per-dimension temperature, no ℓ2
normalisation). :meth:`prepare` is called by the fine-tune stage with the pretrained encoder's
train-set representations (a penalty that depends on them, such as Q-Score v2's discriminative
set D, takes what it needs there); :meth:`attach` is called once on the model before training;
:meth:`penalty` after each ``method.loss(views)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from sslbench.methods.base import SSLMethod


class RegulariserError(ValueError):
    """A regulariser is not defined for the method it was combined with."""


class Regulariser:
    """The "none" control: no penalty, no change to the method."""

    name = "none"
    applies_to: tuple[str, ...] | None = None  # None: every method

    def prepare(self, train_features: Callable[[], torch.Tensor]) -> None:
        """Take what the regulariser needs from the pretrained encoder before fine-tuning.

        ``train_features()`` returns the pretrained encoder's representations h (fp32, CPU) of
        the train set in the evaluation view; it is computed only when called, so a regulariser
        that needs nothing (the default) costs nothing. Called once, before :meth:`attach`.
        """

    def attach(self, method: SSLMethod) -> None:
        if self.applies_to is not None and method.name not in self.applies_to:
            raise RegulariserError(
                f"regulariser {self.name!r} is not defined for method {method.name!r}; "
                f"it applies to {', '.join(self.applies_to)}"
            )

    def penalty(self) -> torch.Tensor | float:
        return 0.0


class RepresentationRegulariser(Regulariser):
    """A penalty on the batch of representations H (2N × r) the online encoder produced.

    The online backbone's outputs are collected by a forward hook while the method computes
    its loss (training mode, gradients on), so any method's h is seen without changing it.
    """

    def __init__(self) -> None:
        self._batch: list[torch.Tensor] = []

    def attach(self, method: SSLMethod) -> None:
        super().attach(method)
        method.backbone.register_forward_hook(self._collect)

    def _collect(self, module: torch.nn.Module, inputs: object, output: torch.Tensor) -> None:
        if module.training and torch.is_grad_enabled():
            self._batch.append(output)

    def penalty(self) -> torch.Tensor | float:
        if not self._batch:
            return 0.0
        h = torch.cat(self._batch)
        self._batch.clear()
        return self.representation_penalty(h)

    def representation_penalty(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


INFONCE_METHODS = ("simclr", "mocov2")


class CriterionRegulariser(Regulariser):
    """Replaces an InfoNCE method's criterion by a variant of the project's InfoNCE."""

    applies_to = INFONCE_METHODS

    def attach(self, method: SSLMethod) -> None:
        super().attach(method)
        spec = method.spec
        method.criterion = self.criterion(
            temperature=spec.temperature,
            queue_size=getattr(spec, "queue_size", 0),
            dim=spec.projection_dim,
        )

    def criterion(self, temperature: float, queue_size: int, dim: int) -> torch.nn.Module:
        raise NotImplementedError
