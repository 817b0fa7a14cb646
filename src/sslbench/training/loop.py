"""The one training loop every SSL method and regulariser shares.

Data stays in memory as a uint8 tensor; each step draws the views with :class:`BatchAugment`,
computes the method's loss, steps the optimiser and the warmup-cosine schedule, and lets the
method update its own state. A checkpoint is written atomically after every epoch and training
resumes from the newest one, so a killed job continues where it stopped.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sslbench.data.augment import AugmentSpec, BatchAugment
from sslbench.device import CPU, Compute
from sslbench.io import atomic_path
from sslbench.methods.base import SSLMethod
from sslbench.regularisers.base import Regulariser
from sslbench.training.optim import OptimSpec, build_optimizer, warmup_cosine

log = logging.getLogger(__name__)
CHECKPOINT_GLOB = "epoch_*.pt"


@dataclass(frozen=True)
class TrainSpec:
    epochs: int
    batch_size: int
    seed: int
    optimizer: OptimSpec = field(default_factory=OptimSpec)
    augment: AugmentSpec = field(default_factory=AugmentSpec)
    log_every_steps: int = 10
    keep_checkpoints: int = 2


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


EpochCallback = Callable[[int, dict[str, float]], None]


def train(
    method: SSLMethod,
    images: torch.Tensor,
    spec: TrainSpec,
    checkpoint_dir: Path,
    on_epoch_end: EpochCallback | None = None,
    fingerprint: str = "",
    regulariser: Regulariser | None = None,
    compute: Compute = CPU,
) -> list[dict[str, float]]:
    """Train ``method`` on uint8 ``images`` (N, 3, H, W); return the per-epoch history.

    ``fingerprint`` identifies the run's configuration; checkpoints written under another
    fingerprint (a changed config) are discarded instead of resumed. ``regulariser`` (already
    attached to ``method``) adds its penalty to every step's loss. ``compute``: the device
    (each batch is copied there as uint8 and augmented there) and the autocast dtype.
    """
    regulariser = regulariser or Regulariser()
    steps_per_epoch = images.shape[0] // spec.batch_size
    if steps_per_epoch == 0:
        raise ValueError(
            f"pretrain.batch_size: {spec.batch_size} exceeds the {images.shape[0]} training images"
        )
    total_steps = steps_per_epoch * spec.epochs
    warmup_steps = round(spec.optimizer.warmup_epochs * steps_per_epoch)
    method.to(compute.device, memory_format=compute.memory_format)
    optimizer = build_optimizer(method, spec.optimizer)
    scaler = torch.amp.GradScaler(compute.device.type, enabled=compute.needs_grad_scaling)
    augment = BatchAugment(spec.augment, images.shape[-1])
    generator = torch.Generator().manual_seed(spec.seed)
    torch.manual_seed(spec.seed)
    start_epoch, history = _resume(method, optimizer, generator, checkpoint_dir, fingerprint)

    for epoch in range(start_epoch, spec.epochs):
        method.train()
        order = torch.randperm(images.shape[0], generator=generator)
        running, started = 0.0, time.perf_counter()
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            for group in optimizer.param_groups:
                group["lr"] = spec.optimizer.lr * warmup_cosine(step, total_steps, warmup_steps)
            batch = images[order[i * spec.batch_size : (i + 1) * spec.batch_size]]
            batch = batch.to(compute.device, non_blocking=True)
            views = [
                augment(batch, generator).contiguous(memory_format=compute.memory_format)
                for _ in range(method.views)
            ]
            with compute.autocast():
                loss = method.loss(views) + regulariser.penalty()
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"method {method.name}, regulariser {regulariser.name}: loss is {value} at "
                    f"epoch {epoch + 1}, step {i + 1}; the last good checkpoint in "
                    f"{checkpoint_dir} is kept"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            method.before_optimizer_step(step / total_steps)
            scaler.step(optimizer)
            scaler.update()
            method.on_step_end((step + 1) / total_steps)
            running += value
            if (i + 1) % spec.log_every_steps == 0 or i + 1 == steps_per_epoch:
                rate = (i + 1) * spec.batch_size * method.views / (time.perf_counter() - started)
                log.info(
                    "epoch %d/%d step %d/%d loss %.4f  %.0f img/s",
                    epoch + 1,
                    spec.epochs,
                    i + 1,
                    steps_per_epoch,
                    value,
                    rate,
                )
        record = {
            "epoch": epoch + 1,
            "loss": running / steps_per_epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        _save_checkpoint(method, optimizer, generator, history, checkpoint_dir, spec, fingerprint)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, record)
    return history


def _checkpoint_path(checkpoint_dir: Path, epoch: int) -> Path:
    return checkpoint_dir / f"epoch_{epoch:04d}.pt"


def _save_checkpoint(
    method: SSLMethod,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    history: list[dict[str, float]],
    checkpoint_dir: Path,
    spec: TrainSpec,
    fingerprint: str,
) -> None:
    epoch = len(history)
    state = {
        "epoch": epoch,
        "fingerprint": fingerprint,
        "model": method.state_dict(),
        "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "history": history,
    }
    with atomic_path(_checkpoint_path(checkpoint_dir, epoch)) as tmp:
        torch.save(state, tmp)
    for old in sorted(checkpoint_dir.glob(CHECKPOINT_GLOB))[: -spec.keep_checkpoints]:
        old.unlink()


def _resume(
    method: SSLMethod,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    checkpoint_dir: Path,
    fingerprint: str,
) -> tuple[int, list[dict[str, float]]]:
    for partial in checkpoint_dir.glob(".*.tmp"):  # a save cut short by a killed job
        log.warning("removing partly written %s", partial)
        partial.unlink()
    checkpoints = sorted(checkpoint_dir.glob(CHECKPOINT_GLOB))
    if not checkpoints:
        return 0, []
    # Loaded to the CPU: load_state_dict copies into the model's and optimiser's devices.
    state = torch.load(checkpoints[-1], weights_only=True, map_location="cpu")
    if state.get("fingerprint") != fingerprint:
        log.warning(
            "discarding %d checkpoint(s) of another config in %s", len(checkpoints), checkpoint_dir
        )
        for stale in checkpoints:
            stale.unlink()
        return 0, []
    method.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    log.info("resuming from %s (epoch %d)", checkpoints[-1], state["epoch"])
    return state["epoch"], list(state["history"])
