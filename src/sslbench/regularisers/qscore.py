"""Q-Score regularisation (001 eq. (3); 000 eq. (3)–(4)).

The SSL objective is maximised together with λ₁ · (1/2N) Σ_i 1[Q_i < α] Q_i, which raises the
Q-Score of the batch's low-quality samples, minus λ₂ · Σ_k 1[‖H_{*,k}‖₁ > β] ‖H_{*,k}‖₁, which
stops a few features from firing for every sample (the trivial solution of 000 Fig. A.1);
α and β are the batch means of Q_i and of the column L1 norms (001: "we choose α and β for each
batch as the mean values"). As a loss to minimise this is

    −λ₁ · mean_i(1[Q_i < α] · Q_i) + λ₂ · Σ_k 1[c_k > β] · c_k,   c_k = ‖H_{*,k}‖₁.

Q_i is 001 eq. (1) on the L2-normalised h with the discriminative features D found on the
pretrained encoder's train set (``version: v2``), or 000 eq. (2) (``version: v1``). The
indicator sets (L_i, the thresholds) carry no gradient.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from sslbench.analysis.qscore import discriminative_from_config
from sslbench.regularisers.base import RepresentationRegulariser

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QScoreSpec:
    """The ``regularisers.qscore`` block; its values (001: λ₁ = λ₂ = 1e-4, ε = 4, window 50-95)
    live in config only. ε and the window are the block's
    :class:`~sslbench.analysis.qscore.DiscriminativeSpec`, from which
    :meth:`QScoreRegulariser.prepare` finds ``D``; ``scores`` uses the same ε."""

    lambda1: float
    lambda2: float
    version: str
    epsilon: float
    lower_percentile: float
    upper_percentile: float
    exclude_inactive: bool = False  # optional in the schema: absent = false


def q_score_v2(h: torch.Tensor, discriminative: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Differentiable 001 eq. (1): mean of (h_ij − μ_i) over j ∈ L_i ∩ D; 0 where empty."""
    hn = F.normalize(h, dim=1)
    mu = hn.mean(dim=1, keepdim=True)
    sigma = hn.std(dim=1, unbiased=False, keepdim=True)
    in_d = torch.zeros(h.shape[1], dtype=torch.bool, device=h.device)
    in_d[discriminative] = True
    selected = ((hn > mu + epsilon * sigma) & in_d).detach().float()
    count = selected.sum(dim=1)
    return ((hn - mu) * selected).sum(dim=1) / count.clamp_min(1.0)


def q_score_v1(h: torch.Tensor) -> torch.Tensor:
    """Differentiable 000 eq. (2): Z-score of max(h_i) divided by ‖h_i‖₁."""
    mu = h.mean(dim=1)
    sigma = h.std(dim=1, unbiased=False).clamp_min(1e-12)
    z = (h.max(dim=1).values - mu) / sigma
    return z / h.abs().sum(dim=1).clamp_min(1e-12)


class QScoreRegulariser(RepresentationRegulariser):
    name = "qscore"

    def __init__(self, spec: QScoreSpec, discriminative: torch.Tensor | None = None) -> None:
        """``discriminative`` is D for v2; left out, :meth:`prepare` finds it."""
        super().__init__()
        if spec.version not in ("v1", "v2"):
            raise ValueError(f"regularisers.qscore.version: {spec.version!r}; allowed v1, v2")
        self.spec = spec
        self.discriminative = discriminative

    def prepare(self, train_features: Callable[[], torch.Tensor]) -> None:
        """v2: D of the pretrained encoder on the train set (001 eq. (1)); v1 needs nothing."""
        if self.spec.version != "v2":
            return
        h = train_features()
        _, d = discriminative_from_config(h.double().numpy(), asdict(self.spec))
        log.info("discriminative features: %d of %d", len(d), h.shape[1])
        self.discriminative = torch.as_tensor(d, dtype=torch.long)

    def scores(self, h: torch.Tensor) -> torch.Tensor:
        if self.spec.version == "v1":
            return q_score_v1(h)
        if self.discriminative is None:
            raise ValueError(
                "Q-Score v2 regularisation needs the discriminative features D: pass them or "
                "call prepare() with the pretrained encoder's train features"
            )
        return q_score_v2(h, self.discriminative, self.spec.epsilon)

    def representation_penalty(self, h: torch.Tensor) -> torch.Tensor:
        q = self.scores(h)
        low = (q < q.mean()).detach().float()
        columns = h.abs().sum(dim=0)
        wide = (columns > columns.mean()).detach().float()
        return -self.spec.lambda1 * (low * q).mean() + self.spec.lambda2 * (wide * columns).sum()
