"""InfoNCE without the ℓ2 normalisation of the embedding (002 Table 2, Fig. 2): the raw dot
product divided by τ, on batch-standardised outputs ("removing the ℓ2-normalization and
standardizing the outputs", 002 §4.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sslbench.losses.infonce import InfoNCECriterion
from sslbench.regularisers.base import CriterionRegulariser


@dataclass(frozen=True)
class NoL2NormSpec:
    standardise: bool = True


class NoL2Norm(CriterionRegulariser):
    name = "no_l2_norm"

    def __init__(self, spec: NoL2NormSpec) -> None:
        self.spec = spec

    def criterion(self, temperature: float, queue_size: int, dim: int) -> InfoNCECriterion:
        return InfoNCECriterion(
            temperature,
            normalise=False,
            standardise_outputs=self.spec.standardise,
            queue_size=queue_size,
            dim=dim,
        )
