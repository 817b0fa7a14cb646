"""A window's pack: one ``.tar.gz`` holding every result a report reads — per-model JSON
results, per-sample predictions and scores, training histories, job logs, the datasets'
``meta.json``, the MLflow runs as a file — and a ``manifest.json`` saying which slice it is,
where and when it ran (GPU, versions, commit), with which config layers and seeds. Trained
weights (``*.pt``) and checkpoints stay behind: they do not fit the window's return limit and
no rule reads them.

    python -m sslbench.paper_scale.pack --slice S1 --root . --out pack.tar.gz \
        --configfile config/config.yaml ... [--limit-mib 16]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sslbench.io import atomic_path

MANIFEST = "manifest.json"
MLFLOW_RUNS = "mlflow_runs.json"
#: Folders of a run root a pack takes, and the files it leaves out.
PACKED_DIRS = ("results", "logs")
LEFT_OUT_SUFFIXES = (".pt", ".lock")
LEFT_OUT_DIRS = ("checkpoints",)
BYTES_PER_MIB = 1024 * 1024


class PackTooLargeError(ValueError):
    """The pack exceeds the size a window can bring back."""


def packed_files(root: Path) -> list[Path]:
    """The files of ``root`` a pack holds (relative paths, sorted): ``results/`` and ``logs/``
    without weights, checkpoints and locks, and every ``data/<dataset>/meta.json``."""
    found = [
        path
        for folder in PACKED_DIRS
        for path in (root / folder).rglob("*")
        if path.is_file()
        and path.suffix not in LEFT_OUT_SUFFIXES
        and not any(part in LEFT_OUT_DIRS for part in path.relative_to(root).parts)
    ]
    found += (root / "data").glob("*/meta.json")
    return sorted(path.relative_to(root) for path in found)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mlflow_runs(tracking_uri: str, experiment: str) -> list[dict[str, Any]]:
    """Every run of ``experiment`` as a record: id, name, status, times, params, latest
    metrics and tags (what the MLflow UI's runs table shows), oldest first."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])
    return [
        {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "status": run.info.status,
            "start_time": run.info.start_time,
            "end_time": run.info.end_time,
            "params": dict(run.data.params),
            "metrics": dict(run.data.metrics),
            "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
        }
        for run in runs
    ]


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_pack(
    root: Path,
    manifest: dict[str, Any],
    out: Path,
    limit_bytes: int,
    runs: Sequence[dict[str, Any]] = (),
) -> int:
    """Write the pack of run root ``root`` to ``out`` (atomically) with ``manifest`` plus the
    packed files' SHA-256 and ``runs`` (the MLflow records); returns its size. A pack larger
    than ``limit_bytes`` is not written: :class:`PackTooLargeError` gives its size."""
    files = packed_files(root)
    contents = {str(path): (root / path).read_bytes() for path in files}
    contents[MLFLOW_RUNS] = json.dumps(list(runs), indent=1, sort_keys=True).encode()
    full = manifest | {"files": {name: sha256(data) for name, data in contents.items()}}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add_bytes(tar, MANIFEST, json.dumps(full, indent=1, sort_keys=True).encode())
        for name, data in contents.items():
            _add_bytes(tar, name, data)
    size = buffer.tell()
    if size > limit_bytes:
        raise PackTooLargeError(
            f"pack {out} would be {size / BYTES_PER_MIB:.1f} MiB, over the limit of "
            f"{limit_bytes / BYTES_PER_MIB:.1f} MiB a window can bring back; nothing written"
        )
    with atomic_path(out) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return size


def read_manifest(pack: Path) -> dict[str, Any]:
    """The manifest of ``pack`` (a clear error when the file is not a pack)."""
    try:
        with tarfile.open(pack, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return json.loads(member.read())
    except (tarfile.TarError, KeyError, OSError, json.JSONDecodeError) as err:
        raise ValueError(
            f"{pack} is not a readable pack (a .tar.gz with {MANIFEST}): {err}"
        ) from err


def unpack(pack: Path, into: Path) -> dict[str, Any]:
    """Extract ``pack`` into ``into`` after checking every file against the manifest's
    SHA-256; returns the manifest."""
    manifest = read_manifest(pack)
    with tarfile.open(pack, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            expected = manifest["files"].get(member.name)
            handle = tar.extractfile(member)
            data = handle.read() if handle else b""
            if expected != sha256(data):
                raise ValueError(f"{pack}: {member.name} does not match its manifest hash")
            target = into / member.name
            if into.resolve() not in target.resolve().parents:
                raise ValueError(f"{pack}: {member.name} would be written outside {into}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return manifest


def base_manifest(
    slice_id: str, config_files: Iterable[Path], extra: dict[str, Any]
) -> dict[str, Any]:
    """What a pack says of itself: the slice, when it was made (UTC), each config layer it ran
    with (path and text, in Snakemake's order), plus ``extra`` (machine, commit, timings …)."""
    return {
        "slice": slice_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_layers": [
            {"path": str(path), "text": Path(path).read_text()} for path in config_files
        ],
    } | extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sslbench.paper_scale.pack", description=__doc__
    )
    parser.add_argument("--slice", required=True, help="the slice's id (config/paper_scale)")
    parser.add_argument("--root", type=Path, default=Path("."), help="the run's folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--configfile", type=Path, nargs="+", required=True)
    parser.add_argument("--extra", type=Path, help="a JSON object merged into the manifest")
    parser.add_argument("--limit-mib", type=float, default=16.0)
    parser.add_argument("--tracking-uri", default="sqlite:///mlflow.db")
    parser.add_argument("--experiment", default="sslbench")
    args = parser.parse_args(argv)
    extra = json.loads(args.extra.read_text()) if args.extra else {}
    manifest = base_manifest(args.slice, args.configfile, extra)
    try:
        runs = mlflow_runs(args.tracking_uri, args.experiment)
    except Exception as err:  # noqa: BLE001 — the results matter more than the run table
        manifest["mlflow_error"] = f"{type(err).__name__}: {err}"
        runs = []
    try:
        size = write_pack(args.root, manifest, args.out, int(args.limit_mib * BYTES_PER_MIB), runs)
    except PackTooLargeError as err:
        print(f"sslbench: {err}")
        return 1
    print(f"pack {args.out}: {size / BYTES_PER_MIB:.2f} MiB, {len(runs)} MLflow runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
