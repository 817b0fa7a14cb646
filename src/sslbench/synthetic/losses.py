"""InfoNCE variants of 002 §4.1: cosine / dot product (the project's) and ℓp distance (the box).

- Sphere: InfoNCE with cosine similarity (002 eq. (1)), or with the raw dot product when the ℓ2
  normalisation is removed — both are :func:`sslbench.losses.infonce.info_nce`.
- Box: Zimmermann et al.'s "extended InfoNCE objective for non-normalized representations based
  on an ℓp norm" (002 §4.1), similarity s(a, b) = −‖a − b‖_p^p (the p-th power, their default),
  which for p = 2 is 002 eq. (4). With the per-dimension temperature of 002 §3 it becomes
  s(a, b) = −Σ_j |a_j − b_j|^p / τ_j.

:func:`lp_similarity_logits` and :func:`lp_info_nce` are the one addition to the project's loss;
they mirror :func:`~sslbench.losses.infonce.similarity_logits` and
:func:`~sslbench.losses.infonce.info_nce` (2N views, self excluded, symmetric cross-entropy) and
belong in :mod:`sslbench.losses.infonce` once that module is open for edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from sslbench.losses.infonce import Temperature, info_nce, similarity_logits

SimilarityKind = Literal["cosine", "dot", "lp"]
#: cdist's matrix-multiply shortcut loses the small positive-pair distances of large embeddings.
EXACT_DISTANCES = "donot_use_mm_for_euclid_dist"


def lp_similarity_logits(
    a: torch.Tensor, b: torch.Tensor, temperature: Temperature, p: float
) -> torch.Tensor:
    """Matrix of −Σ_j |a_ij − b_kj|^p / τ_j (scalar τ or one τ_j per dimension)."""
    scale = torch.as_tensor(temperature, dtype=a.dtype, device=a.device) ** (1.0 / p)
    if scale.ndim == 1 and scale.shape[0] != a.shape[1]:
        raise ValueError(
            f"per-dimension temperature has {scale.shape[0]} entries for "
            f"{a.shape[1]}-dimensional embeddings"
        )
    dist = torch.cdist(a / scale, b / scale, p=p, compute_mode=EXACT_DISTANCES)
    return -(dist**p)


def positive_index(n: int, device: torch.device | None = None) -> torch.Tensor:
    """Column of each row's positive among the 2N views [z0; z1] (i ↔ i + N)."""
    return torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(device)


def lp_info_nce(
    z0: torch.Tensor, z1: torch.Tensor, temperature: Temperature, p: float = 2.0
) -> torch.Tensor:
    """Symmetric InfoNCE over the 2N views with the ℓp similarity (structure of ``info_nce``)."""
    z = torch.cat([z0, z1])
    logits = lp_similarity_logits(z, z, temperature, p)
    self_mask = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    return F.cross_entropy(logits, positive_index(z0.shape[0], z.device))


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
