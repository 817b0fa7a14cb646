"""The one training loop every SSL method and regulariser shares.

Data stays in memory as a uint8 tensor; each step draws the views with :class:`BatchAugment`,
computes the method's loss, steps the optimiser and the warmup-cosine schedule, and lets the
method update its own state. A checkpoint is written atomically after every epoch and training
resumes from the newest one, so a killed job continues where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from sslbench.data.augment import AugmentSpec, ViewAugment
from sslbench.device import CPU, Compute
from sslbench.io import atomic_path, load_tensors
from sslbench.methods.base import SSLMethod
from sslbench.regularisers.base import Regulariser
from sslbench.training.optim import OptimSpec, build_optimizer, schedule_lr, warmup_cosine

log = logging.getLogger(__name__)
CHECKPOINT_GLOB = "epoch_*.pt"


@dataclass(frozen=True)
class TrainSpec:
    epochs: int
    batch_size: int
    seed: int
    optimizer: OptimSpec
    augment: tuple[AugmentSpec, ...] = (AugmentSpec(),)
    log_every_steps: int = 10
    keep_checkpoints: int = 2


# The uint8 training set moves to the GPU once when it takes at most this share of the free GPU
# memory (CIFAR-10's 50,000 images: 150 MB), leaving the rest to activations.
RESIDENT_SHARE = 0.25


def resident(images: torch.Tensor, compute: Compute) -> torch.Tensor:
    """``images`` on the GPU when they fit (no host copy per step), else where they are."""
    if compute.device.type != "cuda":
        return images
    free, _ = torch.cuda.mem_get_info(compute.device)
    return images.to(compute.device) if images.nbytes <= RESIDENT_SHARE * free else images


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


EpochCallback = Callable[[int, dict[str, float]], None]


class LossWatch:
    """An epoch's losses kept on the training device, so a step needs no host sync: the sum,
    the latest value and the first non-finite one (with its step). The loop reads them every
    ``log_every_steps`` and at the epoch's end, before the epoch's checkpoint is written, so a
    non-finite loss still stops the job with the last good checkpoint kept."""

    def __init__(self, device: torch.device) -> None:
        self.total = torch.zeros((), device=device, dtype=torch.float64)
        self.latest = torch.zeros((), device=device)
        self.bad_step = torch.full((), -1, device=device, dtype=torch.long)
        self.bad_value = torch.zeros((), device=device)

    def add(self, loss: torch.Tensor, step: int) -> None:
        self.latest = loss.detach().float()
        self.total += self.latest
        first = (self.bad_step < 0) & ~torch.isfinite(self.latest)
        self.bad_step = torch.where(first, step, self.bad_step)
        self.bad_value = torch.where(first, self.latest, self.bad_value)

    def check(self, what: str, epoch: int, checkpoint_dir: Path) -> None:
        """Raise :class:`NonFiniteLossError` if a loss so far was NaN or inf (one host sync)."""
        step = int(self.bad_step)
        if step >= 0:
            raise NonFiniteLossError(
                f"{what}: loss is {float(self.bad_value)} at epoch {epoch}, step {step}; the "
                f"last good checkpoint in {checkpoint_dir} is kept"
            )

    def last(self) -> float:
        return float(self.latest)

    def mean(self, steps: int) -> float:
        return float(self.total) / steps


def place(method: SSLMethod, compute: Compute) -> None:
    """``method`` on ``compute``'s device in its layout, its backbone compiled in place when
    ``compute.compile`` (state_dict keys are unchanged)."""
    method.to(compute.device, memory_format=compute.memory_format)
    if compute.compile:
        method.backbone.compile()


def training_optimizer(
    method: SSLMethod, spec: OptimSpec, batch_size: int
) -> torch.optim.Optimizer:
    """``method``'s optimiser as training builds it: ``spec`` at ``batch_size``, the method's
    static-lr parameters (SimSiam's predictor) in groups the schedule leaves at the base lr."""
    return build_optimizer(method, spec, batch_size, method.static_lr_parameters())


def draw_views(
    augment: ViewAugment,
    batch: torch.Tensor,
    n_views: int,
    generator: torch.Generator,
    compute: Compute = CPU,
) -> list[torch.Tensor]:
    """The ``n_views`` augmented views of a uint8 ``batch``, on ``compute``'s device and in its
    layout (the batch moves there first when it is not resident)."""
    batch = batch.to(compute.device, non_blocking=True)
    return [
        augment(batch, v, generator).contiguous(memory_format=compute.memory_format)
        for v in range(n_views)
    ]


def optimizer_step(
    method: SSLMethod,
    regulariser: Regulariser,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    views: list[torch.Tensor],
    compute: Compute,
    progress: float,
    progress_after: float,
) -> torch.Tensor:
    """One training step on ``views``: the method's loss plus the regulariser's penalty in
    ``compute``'s precision, backward, the method's gradient edits, the optimiser step and the
    method's state update. ``progress`` / ``progress_after``: the fraction of training done
    before / after the step. Returns the loss, still on the device (no host sync)."""
    with compute.autocast():
        loss = method.loss(views) + regulariser.penalty()
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    method.before_optimizer_step(progress)
    scaler.step(optimizer)
    scaler.update()
    method.on_step_end(progress_after)
    return loss


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
    place(method, compute)
    images = resident(images, compute)
    optimizer = training_optimizer(method, spec.optimizer, spec.batch_size)
    base_lr = spec.optimizer.scaled_lr(spec.batch_size)
    scaler = compute.grad_scaler()
    augment = ViewAugment(spec.augment, images.shape[-1])
    generator = torch.Generator().manual_seed(spec.seed)
    torch.manual_seed(spec.seed)
    start_epoch, history = _resume(method, optimizer, generator, checkpoint_dir, fingerprint)
    method.on_train_start(steps_per_epoch)

    for epoch in range(start_epoch, spec.epochs):
        method.train()
        # on the data's device once per epoch: indexing GPU-resident images with a CPU index
        # would copy it there, and wait for the GPU, at every step
        order = torch.randperm(images.shape[0], generator=generator).to(images.device)
        watch, started = LossWatch(compute.device), time.perf_counter()
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            schedule_lr(optimizer, base_lr, warmup_cosine(step, total_steps, warmup_steps))
            batch = images[order[i * spec.batch_size : (i + 1) * spec.batch_size]]
            views = draw_views(augment, batch, method.views, generator, compute)
            loss = optimizer_step(
                method,
                regulariser,
                optimizer,
                scaler,
                views,
                compute,
                step / total_steps,
                (step + 1) / total_steps,
            )
            watch.add(loss, i + 1)
            if (i + 1) % spec.log_every_steps == 0 or i + 1 == steps_per_epoch:
                watch.check(
                    f"method {method.name}, regulariser {regulariser.name}",
                    epoch + 1,
                    checkpoint_dir,
                )
                rate = (i + 1) * spec.batch_size * method.views / (time.perf_counter() - started)
                log.info(
                    "epoch %d/%d step %d/%d loss %.4f  %.0f img/s",
                    epoch + 1,
                    spec.epochs,
                    i + 1,
                    steps_per_epoch,
                    watch.last(),
                    rate,
                )
        record = {
            "epoch": epoch + 1,
            "loss": watch.mean(steps_per_epoch),
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
    newest = _newest_intact(sorted(checkpoint_dir.glob(CHECKPOINT_GLOB)))
    if newest is None:
        return 0, []
    path, state = newest
    checkpoints = sorted(checkpoint_dir.glob(CHECKPOINT_GLOB))
    # A checkpoint of another config, or one whose optimiser groups or model state this code
    # builds otherwise (written by an older version), cannot continue this run.
    if (
        state.get("fingerprint") != fingerprint
        or not _same_groups(optimizer, state["optimizer"])
        or state["model"].keys() != method.state_dict().keys()
    ):
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
    log.info("resuming from %s (epoch %d)", path, state["epoch"])
    return state["epoch"], list(state["history"])


def _newest_intact(checkpoints: list[Path]) -> tuple[Path, dict] | None:
    """The newest of ``checkpoints`` that loads, with its state (to the CPU: load_state_dict
    copies into the model's and optimiser's devices). One that is truncated or corrupted (a
    disk fault: saves are atomic) is removed, naming it, and the previous one tried."""
    for path in reversed(checkpoints):
        try:
            return path, load_tensors(path, map_location="cpu")
        except ValueError as err:
            log.warning("%s; removed, resuming from the previous checkpoint if any", err)
            path.unlink()
    return None


def _same_groups(optimizer: torch.optim.Optimizer, saved: dict) -> bool:
    """Whether a saved optimiser state has this optimiser's parameter groups (count and sizes)."""
    ours = [len(g["params"]) for g in optimizer.param_groups]
    return ours == [len(g["params"]) for g in saved["param_groups"]]
