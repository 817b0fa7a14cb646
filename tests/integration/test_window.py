"""A window of the paper-scale replication on the CPU: scripts/window.sh runs a tiny slice
(.test/config/slices.yaml) to its analyses and packs it; the pack renders its report in a
fresh folder with only the report rules, with the same claims rows as the run's own report;
two packs of different dates and seeds stay apart in the union table."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from sslbench.paper_scale import pack, render

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import readme_figures  # noqa: E402


@pytest.fixture(scope="module")
def window(tiny_pipeline, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny DAG's finished run folder and the pack a window made of it (its DAG is up to
    date, so the window's run is a no-op: the same outputs are packed)."""
    run = tmp_path_factory.mktemp("window") / "run"
    shutil.copytree(tiny_pipeline, run, symlinks=True)
    out = run.parent / "out"
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "BUNDLE": str(run / "no-bundle"),
        "OUT": str(out),
        "PLAN": ".test/config/slices.yaml",
        "PROFILE": "",
        "SLICE": "T1",
        "JOBS_PER_GPU": "1",
        "COMMIT": "c0ffee",
        "DEADLINE": "600",
    }
    done = subprocess.run(
        ["bash", str(REPO / "scripts/window.sh")],
        cwd=run, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "dag: exit 0" in (out / "summary.txt").read_text()
    return run, out / "T1.tar.gz"


def test_the_window_packs_its_slice_with_where_and_how_it_ran(window):
    run, made = window
    manifest = pack.read_manifest(made)
    assert manifest["slice"] == "T1" and manifest["commit"] == "c0ffee"
    assert manifest["dag_exit"] == 0 and manifest["gpu"] == "none"
    layers = [layer["path"] for layer in manifest["config_layers"]]
    assert layers[:2] == ["config/config.yaml", ".test/config/test.yaml"]
    assert layers[-1].endswith("window.yaml")
    assert any(line.startswith("pretrain: start-up") for line in manifest["job_seconds"])
    assert not [name for name in manifest["files"] if name.endswith(".pt")]
    with tarfile.open(made) as tar:
        runs = json.loads(tar.extractfile(pack.MLFLOW_RUNS).read())
    assert {r["tags"].get("stage") for r in runs} >= {"pretrain", "evaluate", "qscore"}


def _rows(index: Path) -> list[dict[str, str]]:
    return readme_figures.claim_rows(index.read_text())


def test_a_pack_renders_the_same_claims_rows_in_a_fresh_folder(window, tmp_path):
    run, made = window
    index = render.render_report(made, tmp_path / "fresh")
    assert not list((tmp_path / "fresh").rglob("model.pt")), "the render trained a model"
    ours, original = _rows(index), _rows(run / "reports/index.html")
    assert ours and ours == original
    table = render.pack_claims(made)
    decided = [r for r in original if r["verdict"] != render.NOT_RUN]
    assert sorted(table["verdict"]) == sorted(r["verdict"] for r in decided)


def _relabelled(made: Path, out: Path, seed: int, created: str) -> Path:
    """``made`` as a pack of pretraining seed ``seed`` made on ``created``."""
    members = {}
    with tarfile.open(made) as tar:
        for member in tar.getmembers():
            members[member.name.replace("/simclr/seed0/", f"/simclr/seed{seed}/")] = (
                tar.extractfile(member).read()
            )
    manifest = json.loads(members.pop(pack.MANIFEST))
    manifest["created"] = created
    seeds = {"path": "seeds.yaml", "text": f"pretrain: {{seeds: [{seed}]}}"}
    manifest["config_layers"].append(seeds)
    manifest["files"] = {
        name: pack.sha256(data) for name, data in members.items() if name != pack.MANIFEST
    }
    with tarfile.open(out, "w:gz") as tar:
        for name, data in [(pack.MANIFEST, json.dumps(manifest).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_the_union_table_keeps_two_packs_dates_and_seeds_apart(window, tmp_path):
    _, made = window
    first = _relabelled(made, tmp_path / "a.tar.gz", 0, "2026-12-01T00:00:00+00:00")
    second = _relabelled(made, tmp_path / "b.tar.gz", 1, "2026-12-02T00:00:00+00:00")
    table = render.union_table([first, second])
    by_date = {date: rows for date, rows in table.groupby("date")}
    assert set(by_date) == {"2026-12-01", "2026-12-02"}
    assert len(by_date["2026-12-01"]) == len(by_date["2026-12-02"]) > 0
    seeded = table[table["run"].str.contains("seed")]
    assert not seeded.empty
    for date, seed, other in (("2026-12-01", "seed0", "seed1"), ("2026-12-02", "seed1", "seed0")):
        runs = seeded[seeded["date"] == date]["run"]
        assert runs.str.contains(seed).all() and not runs.str.contains(other).any()
    text = render.markdown(table)
    assert "| T1 |" in text and "| 2026-12-01 |" in text and "| 2026-12-02 |" in text
