"""Device choice, per-job GPU slots and mixed precision (src/sslbench/device.py)."""

import subprocess
import sys
import threading

import pytest
import torch

from sslbench import device
from sslbench.device import CPU, Compute, claim_gpu_slot, released_slots, select_compute

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only behaviour")


@no_cuda
@pytest.mark.parametrize("has_bf16", [True, False])
def test_auto_takes_the_cpu_in_bf16_where_it_has_bf16_kernels(monkeypatch, has_bf16):
    monkeypatch.setattr(device, "cpu_supports_bf16", lambda: has_bf16)
    chosen = select_compute("auto", mixed_precision=True)
    assert chosen.device == torch.device("cpu") and not chosen.needs_grad_scaling
    assert chosen.amp_dtype == (torch.bfloat16 if has_bf16 else None)
    assert chosen.memory_format == torch.channels_last


def test_cpu_without_mixed_precision_is_fp32_channels_last():
    chosen = select_compute("cpu", mixed_precision=False)
    assert chosen.amp_dtype is None and chosen.memory_format == torch.channels_last
    assert CPU.amp_dtype is None and CPU.memory_format == torch.contiguous_format


@no_cuda
def test_asking_for_cuda_without_a_gpu_names_the_config_key():
    with pytest.raises(RuntimeError, match=r"compute\.device.*no CUDA GPU"):
        select_compute("cuda", mixed_precision=True)


def test_an_unknown_device_is_refused():
    with pytest.raises(ValueError, match=r"--device: 'tpu'"):
        select_compute("tpu", mixed_precision=False)


def test_each_job_claims_its_own_gpu_slot(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from sslbench.device import claim_gpu_slot; "
            f"print(claim_gpu_slot(3, pathlib.Path({str(tmp_path)!r})), flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "0"  # another job holds slot 0
        with released_slots():
            assert claim_gpu_slot(3, tmp_path) == 1
            assert claim_gpu_slot(3, tmp_path) == 2
    finally:
        holder.communicate("")  # the other job ends: the kernel drops its lock
    with released_slots():
        assert claim_gpu_slot(3, tmp_path) == 0


def test_a_job_waits_for_a_free_gpu(tmp_path):
    claimed = []
    with released_slots():
        claim_gpu_slot(1, tmp_path)
        waiter = threading.Thread(
            target=lambda: claimed.append(claim_gpu_slot(1, tmp_path, poll_seconds=0.05))
        )
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive() and not claimed  # every slot is held: it waits
    waiter.join(5)
    with released_slots():
        assert claimed == [0]


def test_autocast_runs_the_forward_pass_in_the_reduced_dtype():
    layer = torch.nn.Linear(4, 2)
    x = torch.randn(3, 4)
    with Compute(torch.device("cpu"), torch.bfloat16).autocast():
        assert layer(x).dtype == torch.bfloat16
    with CPU.autocast():
        assert layer(x).dtype == torch.float32
    assert Compute(torch.device("cuda"), torch.float16).needs_grad_scaling


def test_jobs_share_a_gpu_through_its_slots(tmp_path, monkeypatch):
    """Two GPUs × two jobs each: four jobs claim slots 0-3 and land on GPUs 0, 1, 0, 1."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda index: None)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    with released_slots():
        chosen = [
            select_compute("cuda", True, tmp_path, compile=True, jobs_per_gpu=2) for _ in range(4)
        ]
        assert [c.device.index for c in chosen] == [0, 1, 0, 1]
        assert all(c.compile and c.amp_dtype == torch.bfloat16 for c in chosen)
    with pytest.raises(ValueError, match=r"compute\.jobs_per_gpu"):
        select_compute("cpu", True, jobs_per_gpu=0)
