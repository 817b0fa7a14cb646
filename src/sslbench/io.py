"""Atomic file output: an interrupted job never leaves a file that looks complete, and a write
that runs out of room says so, naming the file."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import resource
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: errno of a write that ran out of room: disk full, quota exceeded, file-size limit.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
#: torch.save's C++ zip writer loses the errno: a short write surfaces as an "unexpected pos"
#: enforce failure of inline_container.cc (PytorchStreamWriter).
TORCH_SHORT_WRITE = ("inline_container.cc", "PytorchStreamWriter")


class NoRoomError(RuntimeError):
    """A file could not be written for lack of room; the message names the file."""


def _no_room(err: Exception) -> bool:
    if isinstance(err, OSError):
        return err.errno in NO_ROOM
    return isinstance(err, RuntimeError) and any(m in str(err) for m in TORCH_SHORT_WRITE)


def _room_report(target: Path) -> str:
    free = shutil.disk_usage(target.parent).free
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    size_limit = "none" if limit == resource.RLIM_INFINITY else f"{limit} bytes"
    return f"{free} bytes free in {target.parent}, file-size limit (ulimit -f) {size_limit}"


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A write that fails for lack of room (disk full, quota, file-size limit) raises
    :class:`NoRoomError` naming ``path`` and what is left.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except (OSError, RuntimeError) as err:
        if not _no_room(err):
            raise
        raise NoRoomError(
            f"could not write {target}: no space left on device or file too large "
            f"({_room_report(target)}; cause: {str(err).strip().splitlines()[0]})"
        ) from err
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as sorted, indented JSON, atomically (stable bytes for the same object)."""
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode())


def unreadable(path: str | os.PathLike[str], err: Exception) -> ValueError:
    """The error for an intermediate that exists but cannot be read: it names the file and how
    to redo it."""
    return ValueError(
        f"{path} is unreadable ({type(err).__name__}: {str(err).strip()[:200]}): it is truncated "
        "or corrupted; delete it and rerun, and Snakemake redoes the job that writes it"
    )


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file written by :func:`write_json` (a truncated one: :func:`unreadable`)."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise unreadable(path, err) from err


def load_tensors(path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """``torch.load`` of a stage's output, weights only (never pickled code: torch refuses such
    a file with its own UnpicklingError); a truncated or corrupted file raises
    :func:`unreadable`, a missing one FileNotFoundError."""
    import torch

    try:
        return torch.load(path, weights_only=True, **kwargs)
    except FileNotFoundError:
        raise
    except (RuntimeError, OSError, EOFError) as err:
        raise unreadable(path, err) from err


class LockedError(RuntimeError):
    """Another live process holds the lock."""


@contextmanager
def exclusive_lock(lock_path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (which records the holder's pid) or raise
    :class:`LockedError` at once if a live process holds it; the kernel releases it when the
    holder exits or is killed, so a stale lock file never blocks."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise LockedError(
                f"{what} is in use by process {holder} (lock {lock_path}), e.g. a job left "
                f"running by a killed Snakemake; wait for it or stop it (kill {holder}), then rerun"
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        yield
