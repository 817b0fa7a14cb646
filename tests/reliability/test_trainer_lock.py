"""Issue 22 fault 6: a SIGKILLed Snakemake leaves its training job running, and a rerun started a
second trainer on the same checkpoint folder. Now the second trainer refuses, naming the first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sslbench.io import LockedError, exclusive_lock
from sslbench.training.fit import TRAINER_LOCK

HOLDER = """
import sys, time
from pathlib import Path
from sslbench.io import exclusive_lock
with exclusive_lock(Path(sys.argv[1]), "checkpoint folder"):
    print("held", flush=True)
    time.sleep(300)
"""


def _start_trainer(lock: Path) -> subprocess.Popen:
    """A live process holding the trainer lock, as the orphaned job of a killed Snakemake does."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_trainer_refuses_while_the_first_runs(tmp_path: Path):
    lock = tmp_path / "checkpoints" / TRAINER_LOCK
    first = _start_trainer(lock)
    try:
        with pytest.raises(LockedError) as info, exclusive_lock(lock, "checkpoint folder x"):
            pass
        assert f"in use by process {first.pid}" in str(info.value)
        assert f"kill {first.pid}" in str(info.value)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    with exclusive_lock(lock, "checkpoint folder x"):  # a killed holder leaves no stale lock
        assert lock.read_text() == str(os.getpid())
