"""Schedules shared by the methods, driven by the fraction of training done (``progress``).

The training loop reports progress to :meth:`SSLMethod.on_step_end`; a method that needs it
while computing its loss (DINO's teacher-temperature warmup, SwAV's queue start) keeps it in a
:class:`Progress` buffer, so it is saved in the checkpoint and a resumed run continues exactly.
"""

from __future__ import annotations

from typing import Any

import torch
from lightly.utils.scheduler import cosine_schedule
from torch import nn


class HostCopies(nn.Module):
    """Scalar buffers read through host copies: reading a buffer on a GPU waits for the device,
    at every step where a schedule or a queue consults it. :meth:`set_scalar` writes buffer
    and copy; the copies are dropped when a checkpoint is loaded and refreshed from the
    buffers at their next read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # a mixin: the rest go on
        super().__init__(*args, **kwargs)
        self._host: dict[str, float] = {}

    def scalar(self, name: str) -> float:
        """The buffer ``name``'s value, from the host copy."""
        if name not in self._host:
            self._host[name] = getattr(self, name).item()
        return self._host[name]

    def set_scalar(self, name: str, value: float) -> None:
        getattr(self, name).fill_(value)
        self._host[name] = value

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super()._load_from_state_dict(*args, **kwargs)
        self._host.clear()


class Progress(HostCopies):
    """The fraction of training done after the last optimiser step, as a saved buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.value: torch.Tensor
        self.register_buffer("value", torch.zeros((), dtype=torch.float64))

    def set(self, progress: float) -> None:
        self.set_scalar("value", progress)

    def __float__(self) -> float:
        return float(self.scalar("value"))


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
