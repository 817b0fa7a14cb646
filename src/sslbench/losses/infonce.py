"""InfoNCE with the variants the papers study, in one implementation.

- Plain InfoNCE / NT-Xent (Oord et al. 2018; Chen et al. 2020 eq. 1; 002 eq. (1)):
  ℓ_i = −log exp(s_ii⁺/τ) / Σ_{k≠i} exp(s_ik/τ) over the 2N views of a batch, or over a
  memory queue of negatives (MoCo, He et al. 2020).
- Per-dimension temperature (002 §3–4): s(a, b) = Σ_j a_j b_j / τ_j, i.e. aᵀ D b with
  D = diag(1/τ). 002's text once writes τ_c > τ_s, but its Prop. 3 (τ_c ∼ σ_c/σ_s with τ_s = 1)
  and Fig. 1 use τ_c < τ_s; callers pass the vector they want.
- No ℓ2 normalisation (002 Table 2): the dot product of the raw embeddings.
- ℓp similarity (Zimmermann et al. 2021; 002 §4.1, the hyperbox): s(a, b) = −Σ_j |a_j − b_j|^p/τ_j.
- Implicit feature modification, IFM (004 eq. (2)): the positive logit is lowered by ε/τ and
  every negative logit raised by ε/τ, the closed form of perturbing v⁺ − εv and v⁻ + εv.

For the per-dimension temperature the "logit" is already s(a, b) (τ inside the sum), so IFM,
which needs one scalar τ, is only defined with a scalar temperature.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Temperature = float | torch.Tensor
#: cdist's matrix-multiply shortcut loses the small positive-pair distances of large embeddings.
EXACT_DISTANCES = "donot_use_mm_for_euclid_dist"


def similarity_logits(
    a: torch.Tensor, b: torch.Tensor, temperature: Temperature, normalise: bool
) -> torch.Tensor:
    """Matrix of s(a_i, b_k)/τ: cosine (or raw dot) similarity weighted per dimension by 1/τ."""
    if normalise:
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    if isinstance(temperature, torch.Tensor) and temperature.ndim == 1:
        if temperature.shape[0] != a.shape[1]:
            raise ValueError(
                f"per-dimension temperature has {temperature.shape[0]} entries for "
                f"{a.shape[1]}-dimensional embeddings"
            )
        return (a / temperature) @ b.T
    return a @ b.T / temperature


def _ifm_shift(temperature: Temperature, epsilon: float) -> float:
    if epsilon == 0.0:
        return 0.0
    if isinstance(temperature, torch.Tensor) and temperature.numel() > 1:
        raise ValueError("IFM (004 eq. 2) needs one scalar temperature, not a per-dimension one")
    return epsilon / float(temperature)


def positive_index(n: int, device: torch.device | None = None) -> torch.Tensor:
    """Column of each row's positive among the 2N views [z0; z1] (i ↔ i + N), made on
    ``device`` (a copy there would wait for a GPU at every step)."""
    return (torch.arange(2 * n, device=device) + n) % (2 * n)


def views_cross_entropy(logits: torch.Tensor, shift: float = 0.0) -> torch.Tensor:
    """InfoNCE from the (2N, 2N) logit matrix of the views [z0; z1]: each row's positive is its
    other view, every other view but itself a negative; IFM lowers the positive logit and
    raises the negatives by ``shift`` = ε/τ."""
    positives = positive_index(logits.shape[0] // 2, logits.device)
    if shift:
        positive_mask = F.one_hot(positives, logits.shape[0]).bool()
        logits = logits + shift * (~positive_mask).float() - shift * positive_mask.float()
    self_mask = torch.eye(logits.shape[0], dtype=torch.bool, device=logits.device)
    return F.cross_entropy(logits.masked_fill(self_mask, float("-inf")), positives)


def info_nce(
    z0: torch.Tensor,
    z1: torch.Tensor,
    temperature: Temperature,
    normalise: bool = True,
    epsilon: float = 0.0,
) -> torch.Tensor:
    """Symmetric InfoNCE over the 2N views (z0[i], z1[i] positive pairs; all others negatives).

    With ``epsilon`` > 0 this is IFM's adversarial loss L_ε (004 eq. 2).
    """
    z = torch.cat([z0, z1])
    logits = similarity_logits(z, z, temperature, normalise)
    return views_cross_entropy(logits, _ifm_shift(temperature, epsilon))


def lp_similarity_logits(
    a: torch.Tensor, b: torch.Tensor, temperature: Temperature, p: float
) -> torch.Tensor:
    """Matrix of −Σ_j |a_ij − b_kj|^p / τ_j (scalar τ or one τ_j per dimension): Zimmermann et
    al.'s ℓp similarity for non-normalised representations, used on 002's hyperbox (§4.1)."""
    scale = torch.as_tensor(temperature, dtype=a.dtype, device=a.device) ** (1.0 / p)
    if scale.ndim == 1 and scale.shape[0] != a.shape[1]:
        raise ValueError(
            f"per-dimension temperature has {scale.shape[0]} entries for "
            f"{a.shape[1]}-dimensional embeddings"
        )
    dist = torch.cdist(a / scale, b / scale, p=p, compute_mode=EXACT_DISTANCES)
    return -(dist**p)


def lp_info_nce(
    z0: torch.Tensor, z1: torch.Tensor, temperature: Temperature, p: float = 2.0
) -> torch.Tensor:
    """Symmetric InfoNCE over the 2N views with the ℓp similarity."""
    z = torch.cat([z0, z1])
    return views_cross_entropy(lp_similarity_logits(z, z, temperature, p))


def info_nce_queue(
    query: torch.Tensor,
    key: torch.Tensor,
    queue: torch.Tensor,
    temperature: Temperature,
    normalise: bool = True,
    epsilon: float = 0.0,
) -> torch.Tensor:
    """MoCo's InfoNCE: positive (query_i, key_i), negatives the rows of ``queue`` (K, d)."""
    positive = similarity_logits(query, key, temperature, normalise).diagonal().unsqueeze(1)
    negatives = similarity_logits(query, queue, temperature, normalise)
    shift = _ifm_shift(temperature, epsilon)
    logits = torch.cat([positive - shift, negatives + shift], dim=1)
    return F.cross_entropy(
        logits, torch.zeros(query.shape[0], dtype=torch.long, device=query.device)
    )


def block_temperature(
    dim: int, content_dims: int, tau_content: float, tau_style: float
) -> torch.Tensor:
    """Per-dimension temperatures: τ_c for the first ``content_dims`` dimensions, τ_s for the rest
    (002 §4.2 uses τ = 1 for half of the dimensions and 0.7 for the other half)."""
    if not 0 <= content_dims <= dim:
        raise ValueError(f"content_dims must lie in [0, {dim}], got {content_dims}")
    tau = torch.full((dim,), float(tau_style))
    tau[:content_dims] = tau_content
    return tau


def standardise(z: torch.Tensor) -> torch.Tensor:
    """Per-dimension batch standardisation (002 §4.2: "removing the ℓ2-normalization and
    standardizing the outputs")."""
    return (z - z.mean(dim=0)) / z.std(dim=0).clamp_min(1e-6)


class NTXent(nn.Module):
    """SimCLR's NT-Xent at a fixed scalar τ (Chen et al. 2020, eq. 1): :func:`info_nce`, equal to
    lightly's ``NTXentLoss`` (tests/test_infonce.py) without its boolean-mask indexing, which
    waits for a GPU at every step (measured on an H100, benchmarks/README.md)."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        return info_nce(z0, z1, self.temperature)


class InfoNCECriterion(nn.Module):
    """``criterion(z0, z1)`` for SimCLR (in-batch negatives) or MoCo (``queue_size`` > 0) with
    the papers' variants: per-dimension temperature, no ℓ2 normalisation (optionally batch-
    standardised), and IFM — (L + α·L_ε)/(1 + α), or L_ε alone (004 eq. 2 and §4)."""

    def __init__(
        self,
        temperature: Temperature,
        normalise: bool = True,
        standardise_outputs: bool = False,
        epsilon: float = 0.0,
        alpha: float = 1.0,
        adversarial_only: bool = False,
        queue_size: int = 0,
        dim: int = 0,
    ) -> None:
        super().__init__()
        self.register_buffer("temperature", torch.as_tensor(temperature, dtype=torch.float32))
        # a scalar τ is used from the host: reading the buffer on a GPU syncs every step
        self.scalar_temperature = float(self.temperature) if not self.temperature.ndim else None
        self.normalise = normalise
        self.standardise_outputs = standardise_outputs
        self.epsilon = epsilon
        self.alpha = alpha
        self.adversarial_only = adversarial_only
        self.queue_size = queue_size
        if queue_size:
            self.register_buffer("queue", F.normalize(torch.randn(queue_size, dim), dim=1))
            self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def _tau(self) -> Temperature:
        return self.temperature if self.temperature.ndim else self.scalar_temperature

    def _loss(self, z0: torch.Tensor, z1: torch.Tensor, epsilon: float) -> torch.Tensor:
        if self.queue_size:
            return info_nce_queue(z0, z1, self.queue, self._tau(), self.normalise, epsilon)
        return info_nce(z0, z1, self._tau(), self.normalise, epsilon)

    @torch.no_grad()
    def _enqueue(self, keys: torch.Tensor) -> None:
        keys = F.normalize(keys, dim=1) if self.normalise else keys
        # the ring position stays on the device: reading it on the host would wait for a GPU
        idx = (torch.arange(keys.shape[0], device=keys.device) + self.queue_ptr) % self.queue_size
        self.queue[idx] = keys.detach().to(self.queue.dtype)  # keys are bf16 under autocast
        self.queue_ptr.add_(keys.shape[0]).remainder_(self.queue_size)

    def forward(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        if self.standardise_outputs:
            z0, z1 = standardise(z0), standardise(z1)
        loss = None if self.adversarial_only else self._loss(z0, z1, 0.0)
        if self.epsilon:
            adversarial = self._loss(z0, z1, self.epsilon)
            loss = (
                adversarial
                if loss is None
                else (loss + self.alpha * adversarial) / (1 + self.alpha)
            )
        if self.queue_size and z0.requires_grad:
            self._enqueue(z1)
        return loss
