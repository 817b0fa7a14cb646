"""Schedules shared by the methods, driven by the fraction of training done (``progress``).

The training loop reports progress to :meth:`SSLMethod.on_step_end`; a method that needs it
while computing its loss (DINO's teacher-temperature warmup, SwAV's queue start) keeps it in a
:class:`Progress` buffer, so it is saved in the checkpoint and a resumed run continues exactly.
"""

from __future__ import annotations

import torch
from lightly.utils.scheduler import cosine_schedule
from torch import nn


class Progress(nn.Module):
    """The fraction of training done after the last optimiser step, as a saved buffer.

    Reads come from a host copy: reading the buffer on a GPU would wait for the device at
    every step. The copy is refreshed from the buffer once after a checkpoint is loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.value: torch.Tensor
        self.register_buffer("value", torch.zeros((), dtype=torch.float64))
        self._host: float | None = 0.0

    def set(self, progress: float) -> None:
        self.value.fill_(progress)
        self._host = progress

    def __float__(self) -> float:
        if self._host is None:
            self._host = float(self.value)
        return self._host

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super()._load_from_state_dict(*args, **kwargs)
        self._host = None


def cosine_increase(progress: float, base: float, final: float) -> float:
    """``final − (final − base)·(cos(π·progress) + 1)/2``: base at 0, final at 1.

    The momentum schedule of BYOL (Grill et al. 2020, §3.2, τ = 1 − (1 − τ_base)(cos(πk/K) + 1)/2
    with k/K = ``progress``), also used by DINO and by solo-learn's MoCo v2+. Computed with
    lightly's ``cosine_schedule`` on a unit interval (step = progress, max_steps = 2, so that
    step / (max_steps − 1) = progress).
    """
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress must lie in [0, 1], got {progress}")
    return cosine_schedule(progress, 2, base, final)  # type: ignore[arg-type]


def linear_warmup(progress: float, start: float, end: float, warmup: float) -> float:
    """``start`` → ``end`` linearly over the first ``warmup`` fraction of training, then ``end``."""
    if warmup <= 0.0 or progress >= warmup:
        return end
    return start + (end - start) * progress / warmup
