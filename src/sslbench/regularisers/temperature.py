"""Per-dimension temperature in InfoNCE (002 §3–4): τ_c for a block of "content" dimensions and
τ_s for the rest, s(a, b) = Σ_j a_j b_j / τ_j. The paper's text once says τ_c > τ_s, but its
Prop. 3 (τ_c ∼ σ_c/σ_s with τ_s = 1) and Fig. 1 use τ_c < τ_s, which we follow; on CIFAR-10
(§4.2) it uses τ = 1 for half of the dimensions and 0.7 for the other half. Table 2's
"w/o norm + diff. τ" combines it with removing the ℓ2 normalisation (``l2_norm: false``, outputs
batch-standardised as in :mod:`sslbench.regularisers.no_l2_norm`), the only setting where 002
changes τ per dimension: with the norm kept, the per-dimension effect is confounded with moving the
overall τ from the recipe's 0.2 to 0.7 / 1."""

from __future__ import annotations

from dataclasses import dataclass

from sslbench.losses.infonce import InfoNCECriterion, block_temperature
from sslbench.regularisers.base import CriterionRegulariser


@dataclass(frozen=True)
class TemperatureSpec:
    tau_content: float = 0.7
    tau_style: float = 1.0
    content_fraction: float = 0.5
    l2_norm: bool = True


class PerDimensionTemperature(CriterionRegulariser):
    name = "temperature"

    def __init__(self, spec: TemperatureSpec) -> None:
        self.spec = spec

    def criterion(self, temperature: float, queue_size: int, dim: int) -> InfoNCECriterion:
        content = round(self.spec.content_fraction * dim)
        tau = block_temperature(dim, content, self.spec.tau_content, self.spec.tau_style)
        return InfoNCECriterion(
            tau,
            normalise=self.spec.l2_norm,
            standardise_outputs=not self.spec.l2_norm,
            queue_size=queue_size,
            dim=dim,
        )
