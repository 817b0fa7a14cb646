"""Projection-head ablations of 003 Fig. 1 (SparseHead paper, §3): SimCLR trained with no
projector (identity head, z = h) or with a single linear head (z = W h), against the usual
MLP head. They are model variants rather than penalties, so they plug in where regularisers do:
:meth:`attach` swaps the method's projector before the optimiser is built, and the penalty is 0.
Only SimCLR is supported: the other methods size predictors or momentum copies from the head."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from sslbench.methods.base import SSLMethod
from sslbench.regularisers.base import Regulariser


@dataclass(frozen=True)
class ProjectorHeadSpec:
    """No hyper-parameters: the linear head's output size is the method's ``projection_dim``."""


class IdentityHead(Regulariser):
    """z = h: the loss acts on the representation itself (003 Fig. 1, "identity")."""

    name = "identity_head"
    applies_to = ("simclr",)

    def __init__(self, spec: ProjectorHeadSpec) -> None:
        self.spec = spec

    def attach(self, method: SSLMethod) -> None:
        super().attach(method)
        method.projector = self.head(method)

    def head(self, method: SSLMethod) -> nn.Module:
        return nn.Identity()


class LinearHead(IdentityHead):
    """z = W h with W: r → projection_dim, no bias (003 Fig. 1, "linear")."""

    name = "linear_head"

    def head(self, method: SSLMethod) -> nn.Module:
        return nn.Linear(method.backbone.output_dim, method.spec.projection_dim, bias=False)
