"""Where a number came from: the machine, precision and layout, library versions, the code's
commit and whether it had uncommitted edits, and the hashes of the job's and the whole run's
config. Every MLflow run carries these as tags and every result JSON as its ``provenance`` key.

``config_hash`` is the hash of the *whole* Snakemake config of the invocation that ran the job
(the workflow exports it as ``SSLBENCH_CONFIG_HASH``), so the runs of one config can be grouped;
``job_hash`` is the hash of the job's own parameters plus its compute settings (the same value
fingerprints the job's resumable checkpoints, so a checkpoint written in fp32 never resumes
under bf16).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

CONFIG_HASH_ENV = "SSLBENCH_CONFIG_HASH"
#: The commit of a copy of the code whose .git is missing or stale (a GPU node's copy of a
#: working tree): where set, every result names it instead of what git reports there.
COMMIT_ENV = "SSLBENCH_COMMIT"
PACKAGE_DIR = Path(__file__).resolve().parent
OUTSIDE_WORKFLOW = "none (run outside the workflow)"
UNKNOWN = "unknown"
HASH_LENGTH = 12
#: CPU flags (Linux /proc/cpuinfo names) of the native bf16 kernels oneDNN uses.
BF16_ISA_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")
#: distribution name → module (the module's ``__version__`` names the build, e.g. torch's CUDA).
LIBRARIES = {
    "torch": "torch",
    "numpy": "numpy",
    "lightly": "lightly",
    "scikit-learn": "sklearn",
    "mlflow": "mlflow",
}
#: Keys every run's tags and every result's ``provenance`` hold (GPU jobs add gpu_name,
#: gpu_driver, cuda_version and cudnn_version).
PROVENANCE_KEYS = (
    "device",
    "precision",
    "layout",
    "cpu_model",
    "cpu_bf16_isa",
    "torch_version",
    "numpy_version",
    "lightly_version",
    "git_commit",
    "git_dirty",
    "config_hash",
    "job_hash",
)


def config_hash(cfg: Mapping[str, Any]) -> str:
    """Short, stable hash of a config block (sorted-key JSON)."""
    text = json.dumps(cfg, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def _git(*args: str, cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@functools.cache
def git_state(cwd: Path | None = None) -> dict[str, str]:
    """HEAD commit and whether tracked files differ from it ('true' / 'false' / 'unknown'), of
    the repository the workflow runs in (``cwd``, default the working directory), else of the
    one this package was imported from (a workflow run outside any checkout). ``$SSLBENCH_COMMIT``,
    where set, names the commit of a copy whose .git is stale."""
    if os.environ.get(COMMIT_ENV):
        return {"git_commit": os.environ[COMMIT_ENV], "git_dirty": f"as given by {COMMIT_ENV}"}
    for where in (cwd, PACKAGE_DIR):
        commit = _git("rev-parse", "HEAD", cwd=where)
        if commit is not None:
            changes = _git("status", "--porcelain", "--untracked-files=no", cwd=where)
            dirty = UNKNOWN if changes is None else str(bool(changes)).lower()
            return {"git_commit": commit, "git_dirty": dirty}
    return {"git_commit": UNKNOWN, "git_dirty": UNKNOWN}


@functools.cache
def cpu_info() -> dict[str, str]:
    """CPU model and its bf16 instruction sets (Linux /proc/cpuinfo; the platform elsewhere)."""
    model, flags = platform.processor() or UNKNOWN, set[str]()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    isa = [flag for flag in BF16_ISA_FLAGS if flag in flags]
    return {
        "cpu_model": model,
        "cpu_bf16_isa": ", ".join(isa) or "none",
        "cpu_count": str(os.cpu_count()),
    }


@functools.cache
def library_versions() -> dict[str, str]:
    """Installed versions of the libraries the numbers depend on."""
    return {f"{name}_version": _version(name, module) for name, module in LIBRARIES.items()}


def _version(distribution: str, module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except (ImportError, AttributeError):
        pass
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _gpu_info(index: int) -> dict[str, str]:
    import torch

    return {
        "gpu_name": torch.cuda.get_device_name(index),
        "cuda_version": str(torch.version.cuda),
        "cudnn_version": str(torch.backends.cudnn.version()),
        "gpu_driver": _nvidia_driver(),
    }


def _nvidia_driver() -> str:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    return out.stdout.splitlines()[0].strip() if out.stdout else UNKNOWN


def compute_settings(compute: Any | None) -> dict[str, str]:
    """Device type, precision and layout of a :class:`sslbench.device.Compute` (None: a job
    that runs no network, i.e. fp32 NumPy / scikit-learn on the CPU)."""
    if compute is None:
        return {"device": "cpu", "precision": "fp32", "layout": "n/a (no network)"}
    dtype = compute.amp_dtype
    settings = {
        "device": compute.device.type,
        "precision": "fp32" if dtype is None else f"{str(dtype).removeprefix('torch.')} autocast",
        "layout": "channels_last" if compute.channels_last else "contiguous",
    }
    # named only when on, so the job hashes of uncompiled runs stay what they were
    return settings | ({"compiled": "torch.compile"} if compute.compile else {})


def machine(compute: Any | None = None) -> dict[str, str]:
    """Compute settings plus the hardware they ran on (the GPU's when the job used one)."""
    settings = compute_settings(compute)
    hardware = {"host_platform": platform.platform()} | cpu_info()
    if compute is not None and compute.device.type == "cuda":
        hardware |= _gpu_info(compute.device.index or 0)
    return settings | hardware


def provenance(compute: Any | None = None) -> dict[str, str]:
    """Everything a result needs to explain itself, except the job hash (see :func:`job_hash`)."""
    return (
        machine(compute)
        | library_versions()
        | git_state()
        | {"config_hash": os.environ.get(CONFIG_HASH_ENV, OUTSIDE_WORKFLOW)}
    )


def job_hash(params: Mapping[str, Any], compute: Any | None = None) -> str:
    """Hash of a job's parameters and its compute settings (device type, precision, layout)."""
    return config_hash({"params": dict(params), "compute": compute_settings(compute)})
