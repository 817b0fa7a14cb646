"""SparseHead (003 §5, eq. (13)): λ‖W‖₂,₁ = λ Σ_j ‖W[:, j]‖₂ on the weight W of the projection
head's last linear layer, one group per input feature j (the support S_t of 003 §5.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sslbench.methods.base import SSLMethod
from sslbench.regularisers.base import Regulariser, RegulariserError


@dataclass(frozen=True)
class SparseHeadSpec:
    weight: float = 1e-4


def last_linear(module: nn.Module) -> nn.Linear:
    """The last ``nn.Linear`` of a projection head."""
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise RegulariserError("SparseHead needs a projection head with a linear layer")
    return linears[-1]


def l21_norm(weight: torch.Tensor) -> torch.Tensor:
    """Σ_j ‖W[:, j]‖₂ for W of shape (out, in): the group norm over input columns."""
    return weight.norm(dim=0).sum()


class SparseHead(Regulariser):
    name = "sparsehead"

    def __init__(self, spec: SparseHeadSpec) -> None:
        self.spec = spec
        self.layer: nn.Linear | None = None

    def attach(self, method: SSLMethod) -> None:
        super().attach(method)
        self.layer = last_linear(method.projector)

    def penalty(self) -> torch.Tensor:
        return self.spec.weight * l21_norm(self.layer.weight)
