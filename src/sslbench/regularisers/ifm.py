"""Implicit feature modification, IFM (Robinson et al. 2021, 004 eq. (2)): the positive logit
is lowered and every negative logit raised by ε/τ — the closed-form adversarial perturbation
v⁺ − εv, v⁻ + εv of the embeddings — and the loss is (L + α·L_ε)/(1 + α) with α = 1, or L_ε
alone (the "L_ε only" variant)."""

from __future__ import annotations

from dataclasses import dataclass

from sslbench.losses.infonce import InfoNCECriterion
from sslbench.regularisers.base import CriterionRegulariser


@dataclass(frozen=True)
class IFMSpec:
    epsilon: float = 0.1
    alpha: float = 1.0
    adversarial_only: bool = False


class IFM(CriterionRegulariser):
    name = "ifm"

    def __init__(self, spec: IFMSpec) -> None:
        self.spec = spec

    def criterion(self, temperature: float, queue_size: int, dim: int) -> InfoNCECriterion:
        return InfoNCECriterion(
            temperature,
            epsilon=self.spec.epsilon,
            alpha=self.spec.alpha,
            adversarial_only=self.spec.adversarial_only,
            queue_size=queue_size,
            dim=dim,
        )
