"""InfoNCE variants of 002 §4.1: cosine / dot product (the project's) and ℓp distance (the box).

- Sphere: InfoNCE with cosine similarity (002 eq. (1)), or with the raw dot product when the ℓ2
  normalisation is removed — both are :func:`sslbench.losses.infonce.info_nce`.
- Box: Zimmermann et al.'s "extended InfoNCE objective for non-normalized representations based
  on an ℓp norm" (002 §4.1), similarity s(a, b) = −‖a − b‖_p^p (the p-th power, their default),
  which for p = 2 is 002 eq. (4). With the per-dimension temperature of 002 §3 it becomes
  s(a, b) = −Σ_j |a_j − b_j|^p / τ_j.

Both similarities and losses live in :mod:`sslbench.losses.infonce`; this module only picks one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from sslbench.losses.infonce import (
    info_nce,
    lp_info_nce,
    lp_similarity_logits,
    similarity_logits,
)

SimilarityKind = Literal["cosine", "dot", "lp"]


@dataclass(frozen=True)
class Similarity:
    """Which similarity the loss uses, with its (per-dimension) temperature."""

    kind: SimilarityKind
    temperature: torch.Tensor
    p: float = 2.0

    def logits(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Matrix of s(a_i, b_k) with the temperature applied."""
        if self.kind == "lp":
            return lp_similarity_logits(a, b, self.temperature, self.p)
        return similarity_logits(a, b, self.temperature, normalise=self.kind == "cosine")

    def loss(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        """The training loss: the project's InfoNCE, or its ℓp-distance variant."""
        if self.kind == "lp":
            return lp_info_nce(z0, z1, self.temperature, self.p)
        return info_nce(z0, z1, self.temperature, normalise=self.kind == "cosine")


def similarity_for(space: str, normalise: bool) -> SimilarityKind:
    """002 §4.1: cosine on the sphere (raw dot product without ℓ2 normalisation); ℓp on the box."""
    if space == "box":
        return "lp"
    return "cosine" if normalise else "dot"
