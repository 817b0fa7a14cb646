"""Training loop for the small encoders of 002 §4.1 (seeded, deterministic on CPU).

As in Zimmermann et al. 2021, every step draws a fresh batch of positive pairs (z, z̃) from the
DGP, maps them through the frozen g and takes one Adam step on the InfoNCE loss of the two
views (the other 2N − 2 views of the batch are the negatives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from sslbench.synthetic.dgp import InvertibleMLP, LatentSpec, sample_pairs
from sslbench.synthetic.encoders import Encoder
from sslbench.synthetic.losses import Similarity

#: Steps between two entries of the returned loss history.
DEFAULT_LOG_EVERY = 100


@dataclass(frozen=True)
class TrainSpec:
    steps: int
    batch_size: int
    lr: float
    log_every: int = DEFAULT_LOG_EVERY


def observations(mixing: InvertibleMLP, z: np.ndarray) -> torch.Tensor:
    """x = g(z) as a float32 tensor (g is evaluated in float64)."""
    return torch.from_numpy(mixing.forward(z)).float()


def encode_pairs(
    encoder: Encoder, mixing: InvertibleMLP, z: np.ndarray, z_tilde: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(g(z)), f(g(z̃))) in one forward pass."""
    out = encoder(observations(mixing, np.concatenate([z, z_tilde])))
    return out[: len(z)], out[len(z) :]


def train_encoder(
    encoder: Encoder,
    mixing: InvertibleMLP,
    latents: LatentSpec,
    similarity: Similarity,
    spec: TrainSpec,
    rng: np.random.Generator,
) -> list[tuple[int, float]]:
    """Train ``encoder`` in place; return [(step, loss)] every ``spec.log_every`` steps."""
    optimizer = torch.optim.Adam(encoder.parameters(), lr=spec.lr)
    history: list[tuple[int, float]] = []
    encoder.train()
    for step in range(1, spec.steps + 1):
        z, z_tilde = sample_pairs(latents, spec.batch_size, rng)
        loss = similarity.loss(*encode_pairs(encoder, mixing, z, z_tilde))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % spec.log_every == 0 or step == spec.steps:
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"non-finite InfoNCE loss {value} at step {step}")
            history.append((step, value))
    encoder.eval()
    return history
