"""Issue 22 fault 5: a full disk during a checkpoint gave torch's "[enforce fail at
inline_container.cc:672] unexpected pos" with no path and no word of space. The write is cut
short for real here, by a file-size limit (RLIMIT_FSIZE) in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LIMIT_BYTES = 64 * 1024  # far below the 4 MB the writer below produces
WRITER = f"""
import resource, signal, sys
import torch
from sslbench.io import atomic_path, write_json
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT_BYTES}, {LIMIT_BYTES}))
kind, path = sys.argv[1:]
if kind == "checkpoint":  # as the training loop saves one
    with atomic_path(path) as tmp:
        torch.save({{"weights": torch.zeros(1_000_000)}}, tmp)
else:
    write_json(path, list(range(1_000_000)))
"""


@pytest.mark.slow  # a Python process that imports torch under a file-size limit
@pytest.mark.parametrize("kind", ["checkpoint", "json"])
def test_a_write_without_room_names_the_file_and_the_cause(tmp_path: Path, kind: str):
    target = tmp_path / "checkpoints" / "epoch_0001.pt"
    result = subprocess.run(
        [sys.executable, "-c", WRITER, kind, str(target)], capture_output=True, text=True
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("sslbench.io.NoRoomError: "), result.stderr[-2000:]
    assert f"could not write {target}: no space left on device or file too large" in last
    assert f"file-size limit (ulimit -f) {LIMIT_BYTES} bytes" in last
    assert not target.exists() and not list(target.parent.glob("*.tmp"))
