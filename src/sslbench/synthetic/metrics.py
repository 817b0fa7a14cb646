"""Measurements of 002 §4.1: readout R², weight spectra and the loss decomposition of Table 1.

- Adjusted R² (002 §4.1, Fig. 1 middle/right): a linear map A is fitted from representations z'
  (or any layer's activations) to each ground-truth latent by least squares, R² is the
  coefficient of determination of A z' (Wright 1921), and the adjusted R² corrects it for the
  number of regressors k on n samples: R²_adj = 1 − (1 − R²)(n − 1)/(n − k − 1).
- Normalised singular values (002 Fig. 1 left): σ_i / σ_1 of the trained linear W; the effective
  rank exp(H(σ/Σσ)) (Roy & Vetterli 2007) summarises a spectrum in one number.
- Alignment and uniformity (002 Table 1): 002 eq. (1) splits the InfoNCE loss of an anchor into
  L_align = −s(x, x̃)/τ and L_uniform = log(e^{s(x, x̃)/τ} + Σ_{x⁻} e^{s(x⁻, x̃)/τ}), so that
  L_CL = L_align + L_uniform. :func:`loss_terms` evaluates exactly the loss the encoder was
  trained with (:meth:`Similarity.loss`: 2N views, every other view in the denominator), in row
  chunks so that 10,000 samples fit in memory. For the ℓp similarity of the box L_align is the
  mean ‖f(x) − f(x̃)‖_p^p/τ ≥ 0; on the sphere it is the negative mean cosine/τ (002 Table 1's
  negative entries).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from sslbench.analysis import spectrum
from sslbench.losses.infonce import positive_index
from sslbench.synthetic.losses import Similarity

#: Rows of the (2N × 2N) logit matrix evaluated at once in :func:`loss_terms`.
LOSS_CHUNK_ROWS = 1024


def adjusted_r2(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Adjusted R² of the least-squares linear readout features → each target column.

    Args:
        features: (n, k) regressors (a layer's activations); an intercept is fitted too.
        targets: (n, m) ground-truth latents.

    Returns:
        (m,) adjusted R² per target column (≤ 1; ≈ 0 or slightly below for independent noise).
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    n, k = x.shape
    if n <= k + 1:
        raise ValueError(f"adjusted R² needs more samples ({n}) than regressors + 1 ({k + 1})")
    prediction = LinearRegression().fit(x, y).predict(x)
    r2 = r2_score(y, prediction, multioutput="raw_values")
    return 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1)


def normalised_singular_values(matrix: np.ndarray) -> np.ndarray:
    """Singular values in descending order divided by the largest (002 Fig. 1 left)."""
    s = np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False)
    return s / s[0] if s[0] > 0 else s


def effective_rank(matrix: np.ndarray) -> float:
    """Entropy effective rank of ``matrix``'s singular values (Roy & Vetterli 2007), in [1, d]."""
    return spectrum.effective_rank(
        np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False)
    )


@dataclass(frozen=True)
class LossTerms:
    """002 Table 1's columns for one encoder: L_align, L_uniform and L_CL = their sum."""

    align: float
    uniform: float

    @property
    def total(self) -> float:
        return self.align + self.uniform

    def as_dict(self) -> dict[str, float]:
        return {"align": self.align, "uniform": self.uniform, "total": self.total}


@torch.no_grad()
def loss_terms(
    z0: torch.Tensor, z1: torch.Tensor, similarity: Similarity, chunk: int = LOSS_CHUNK_ROWS
) -> LossTerms:
    """L_align and L_uniform of the InfoNCE loss over the 2N views [z0; z1] (002 eq. (1)).

    Every view is an anchor; its positive is the other view of its pair, every other view is in
    the denominator, as in :meth:`Similarity.loss`, so ``align + uniform`` equals that loss.
    """
    z = torch.cat([z0, z1])
    total = z.shape[0]
    positives = positive_index(z0.shape[0], z.device)
    align, uniform = 0.0, 0.0
    for start in range(0, total, chunk):
        rows = torch.arange(start, min(start + chunk, total), device=z.device)
        logits = similarity.logits(z[rows], z)
        logits[torch.arange(rows.numel()), rows] = float("-inf")
        positive = logits[torch.arange(rows.numel()), positives[rows]]
        align -= positive.sum(dtype=torch.float64).item()
        uniform += torch.logsumexp(logits, dim=1).sum(dtype=torch.float64).item()
    return LossTerms(align / total, uniform / total)
