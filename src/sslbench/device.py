"""Where a job computes: the CPU or one GPU of its own, and in which precision and layout.

Mixed precision: bf16 autocast on CUDA GPUs that support it (else fp16 with loss scaling) and on
CPUs whose oneDNN has bf16 kernels (AVX-512 BF16 / AMX). Jobs run channels_last in either
precision (on an H100, SimCLR ResNet-18 width 64, batch 512: 18,183 → 31,450 views/s, issue
19). Measured on this project's 2-core CPU, nothing else running
(``benchmarks/throughput.py``, SimCLR model-only step, batch 256, 32²), ResNet-18 width 16 /
64: fp32 0.882 / 8.85 s, fp32 channels_last 0.613 / 8.28 s, bf16 0.552 / 5.14 s, bf16
channels_last 0.440 / 4.74 s.

Snakemake's ``resources: gpu=1`` only bounds how many GPU jobs run at once; it does not tell a
job which GPU to use. On a machine with N GPUs each job therefore claims a free slot by
taking an exclusive ``flock`` on ``<lock_dir>/gpu<i>.lock`` and keeps it for its lifetime (the
kernel drops the lock when the process ends, also when it is killed). Under SLURM the
scheduler already restricts ``CUDA_VISIBLE_DEVICES`` to the job's GPUs, so slot 0 is free.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import torch

log = logging.getLogger(__name__)
DEVICE_CHOICES = ("auto", "cpu", "cuda")
_held_slots: list[IO[str]] = []  # open lock files: the process keeps its GPU until it exits


@dataclass(frozen=True)
class Compute:
    """The job's device, the autocast dtype of its forward passes (None: full fp32), whether
    convolutions run channels_last and whether training compiles the backbone."""

    device: torch.device
    amp_dtype: torch.dtype | None = None
    channels_last: bool = False
    compile: bool = False

    @property
    def memory_format(self) -> torch.memory_format:
        """Layout of the network's 4-D weights and input batches."""
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def autocast(self) -> contextlib.AbstractContextManager[None]:
        """Mixed precision around a forward pass and loss (a no-op when ``amp_dtype`` is None)."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    @property
    def needs_grad_scaling(self) -> bool:
        """fp16 gradients underflow without loss scaling; bf16 has fp32's exponent range."""
        return self.amp_dtype == torch.float16

    def grad_scaler(self) -> torch.amp.GradScaler:
        """The training step's gradient scaler: active only where fp16 needs loss scaling."""
        return torch.amp.GradScaler(self.device.type, enabled=self.needs_grad_scaling)


CPU = Compute(torch.device("cpu"))


def probe_compute(compute: Compute) -> Compute:
    """What a linear-probe stage (evaluate, qscore, representation) is given, runs with and
    reports in its provenance: the job's device, in fp32 (no autocast), with no convolution
    layout."""
    return Compute(compute.device)


def cpu_supports_bf16() -> bool:
    """Whether this CPU has native bf16 convolution/matmul kernels (oneDNN's own check)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def default_lock_dir() -> Path:
    return Path(os.environ.get("SSLBENCH_GPU_LOCK_DIR", tempfile.gettempdir())) / (
        f"sslbench-gpu-{os.getuid()}"
    )


def claim_gpu_slot(n_slots: int, lock_dir: Path, poll_seconds: float = 2.0) -> int:
    """Index of the first of ``n_slots`` GPU slots no other process holds, held until exit;
    waits while every slot is held (more GPU jobs started than GPUs)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    waiting = False
    while True:
        for index in range(n_slots):
            handle = (lock_dir / f"gpu{index}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _held_slots.append(handle)
            return index
        if not waiting:
            log.info(
                "all %d GPUs are held by other jobs (locks in %s); waiting — pass "
                "--resources gpu=%d to Snakemake to start no more GPU jobs than GPUs",
                n_slots,
                lock_dir,
                n_slots,
            )
            waiting = True
        time.sleep(poll_seconds)


@contextlib.contextmanager
def released_slots() -> Iterator[None]:
    """Release every slot this process claimed on exit of the block (for tests and tools)."""
    try:
        yield
    finally:
        while _held_slots:
            _held_slots.pop().close()


def select_compute(
    request: str,
    mixed_precision: bool,
    lock_dir: Path | None = None,
    compile: bool = False,
    jobs_per_gpu: int = 1,
) -> Compute:
    """The job's :class:`Compute` for ``--device`` ``request`` (auto: a free GPU if CUDA is
    available, else the CPU). With ``mixed_precision``: bf16 on CUDA where the GPU supports it,
    else fp16 with gradient scaling; bf16 on a CPU with bf16 kernels. Jobs run channels_last
    (faster on both, see the module docstring). On N GPUs the job claims one of
    N × ``jobs_per_gpu`` slots; slot i runs on GPU i mod N."""
    if request not in DEVICE_CHOICES:
        raise ValueError(f"--device: {request!r} is not one of {', '.join(DEVICE_CHOICES)}")
    if jobs_per_gpu < 1:
        raise ValueError(f"--jobs-per-gpu (config key compute.jobs_per_gpu): {jobs_per_gpu} < 1")
    if request == "cpu" or (request == "auto" and not torch.cuda.is_available()):
        dtype = torch.bfloat16 if mixed_precision and cpu_supports_bf16() else None
        return Compute(torch.device("cpu"), dtype, channels_last=True, compile=compile)
    if not torch.cuda.is_available():
        raise RuntimeError(
            "--device cuda (config key compute.device): no CUDA GPU is visible to this job; "
            "use compute.device auto or cpu"
        )
    n_gpus = torch.cuda.device_count()
    index = claim_gpu_slot(n_gpus * jobs_per_gpu, lock_dir or default_lock_dir()) % n_gpus
    torch.cuda.set_device(index)
    dtype = None
    if mixed_precision:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return Compute(torch.device("cuda", index), dtype, channels_last=True, compile=compile)
