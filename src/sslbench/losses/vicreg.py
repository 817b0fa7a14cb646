"""VICReg's criterion (Bardes, Ponce & LeCun 2022): ℓ = λ·s(Z, Z′) + μ·[v(Z) + v(Z′)] / 2 +
ν·[c(Z) + c(Z′)] (eq. 6, the variance term halved as the authors' code and lightly's
``VICRegLoss`` do), with invariance s = mean squared distance (eq. 5), variance
v = mean_j max(0, 1 − √(Var(z_j) + ε)) (eq. 1) and covariance c = Σ_{i≠j} C(Z)²_ij / d
(eqs. 3–4).

Equal to lightly's ``VICRegLoss`` (tested), except that the off-diagonal sum is the whole sum
minus the diagonal's: lightly selects the off-diagonal entries with a boolean mask, whose
indexing waits for the GPU every step (found by ``benchmarks/gpu.py``'s sync check on an H100).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def variance_term(z: torch.Tensor, eps: float) -> torch.Tensor:
    """v(Z) (eq. 1, γ = 1): the hinge on each dimension's standard deviation over the batch."""
    return F.relu(1 - torch.sqrt(z.var(dim=0) + eps)).mean()


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    """c(Z) (eqs. 3–4): the squared off-diagonal entries of Z's covariance, summed, over d."""
    centred = z - z.mean(dim=0)
    cov = centred.T @ centred / (z.shape[0] - 1)
    return (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / z.shape[1]


class VICRegCriterion(torch.nn.Module):
    """Eq. 6 on the embeddings of two views with weights λ, μ, ν (their values: the method's
    :class:`sslbench.methods.vicreg.VICRegSpec`); ε = 1e-4 as the authors' code."""

    def __init__(
        self,
        invariance_weight: float,
        variance_weight: float,
        covariance_weight: float,
        eps: float = 1e-4,
    ) -> None:
        super().__init__()
        self.invariance_weight = invariance_weight
        self.variance_weight = variance_weight
        self.covariance_weight = covariance_weight
        self.eps = eps

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
        invariance = F.mse_loss(z_a, z_b)
        variance = (variance_term(z_a, self.eps) + variance_term(z_b, self.eps)) / 2
        covariance = covariance_term(z_a) + covariance_term(z_b)
        return (
            self.invariance_weight * invariance
            + self.variance_weight * variance
            + self.covariance_weight * covariance
        )
