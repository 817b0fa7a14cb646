"""Lasso on the representation (Tibshirani 1996), the baseline regulariser of 001 Table 1:
λ · mean_i ‖h_i‖₁ over the batch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sslbench.regularisers.base import RepresentationRegulariser


@dataclass(frozen=True)
class LassoSpec:
    weight: float = 1e-4


class Lasso(RepresentationRegulariser):
    name = "lasso"

    def __init__(self, spec: LassoSpec) -> None:
        super().__init__()
        self.spec = spec

    def representation_penalty(self, h: torch.Tensor) -> torch.Tensor:
        return self.spec.weight * h.abs().sum(dim=1).mean()
