"""data.dvc records the default dataset: the generator reproduces it byte for byte, and the
local default remote round-trips it through real `dvc push` / `dvc pull`."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sslbench.data import sources

# every test here drives the real `dvc` command (and one a real Snakemake run): not a unit test
pytestmark = pytest.mark.slow

DVC = str(Path(sys.executable).parent / "dvc")


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DVC, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory, repo, default_config) -> Path:
    work = tmp_path_factory.mktemp("dvc")
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    shutil.copytree(repo / ".dvc", work / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache"))
    shutil.copy(repo / "data.dvc", work / "data.dvc")
    name = default_config["pretrain"]["datasets"][0]
    out = work / default_config["data_dir"] / name
    sources.prepare(default_config["datasets"][name], out)
    return work


def test_regenerated_default_dataset_matches_data_dvc(dvc_repo, repo):
    """`dvc add` of the regenerated data must reproduce the committed data.dvc exactly."""
    result = dvc(dvc_repo, "add", "data")
    assert result.returncode == 0, result.stderr
    assert (dvc_repo / "data.dvc").read_text() == (repo / "data.dvc").read_text()
    status = dvc(dvc_repo, "status", "--json", "data.dvc")
    assert json.loads(status.stdout) == {}, status.stdout


def test_push_and_pull_round_trip(dvc_repo):
    assert dvc(dvc_repo, "add", "data").returncode == 0
    before = digests(dvc_repo / "data")
    assert dvc(dvc_repo, "push").returncode == 0
    assert any((dvc_repo / ".dvc-storage").rglob("*"))
    shutil.rmtree(dvc_repo / "data")
    shutil.rmtree(dvc_repo / ".dvc" / "cache", ignore_errors=True)
    pulled = dvc(dvc_repo, "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert digests(dvc_repo / "data") == before


def test_changed_bytes_are_detected(dvc_repo):
    target = next((dvc_repo / "data").rglob("labels.npy"))
    original = target.read_bytes()
    target.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    try:
        result = dvc(dvc_repo, "status", "--json", "data.dvc")
        assert "modified" in result.stdout, result.stdout
    finally:
        target.write_bytes(original)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def test_fresh_clone_round_trip_needs_no_extra_step(tmp_path, repo, default_config):
    """README's sequence on a fresh clone: the pipeline's first rule regenerates the data, the
    workflow commits it to DVC's cache, and then status is clean, push pushes and pull
    restores, with data.dvc and the git tree unchanged."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    name = default_config["pretrain"]["datasets"][0]
    target = f"{default_config['data_dir']}/{name}/meta.json"
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", target],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "committed it to the cache" in run.stderr, run.stderr[-3000:]
    status = dvc(clone, "status", "--json")
    assert json.loads(status.stdout) == {}, status.stdout
    assert _git(clone, "status", "--porcelain") == ""
    pushed = dvc(clone, "push")
    assert pushed.returncode == 0 and "pushed" in pushed.stdout, pushed.stdout + pushed.stderr
    before = digests(clone / "data")
    shutil.rmtree(clone / "data")
    shutil.rmtree(clone / ".dvc" / "cache")
    pulled = dvc(clone, "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert digests(clone / "data") == before
    assert json.loads(dvc(clone, "status", "--json").stdout) == {}


def test_other_data_on_an_empty_cache_leaves_data_dvc_untouched(tmp_path, repo, default_config):
    """A fresh clone (empty cache) that generated data other than data.dvc's: dvc status says
    only "not in cache", yet the after-run step must not record the other data in data.dvc."""
    from sslbench.dvc_cache import cache_generated_data

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    shutil.copytree(repo / ".dvc", tmp_path / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache"))
    shutil.copy(repo / "data.dvc", tmp_path / "data.dvc")
    name = default_config["pretrain"]["datasets"][0]
    other = default_config["datasets"][name] | {"n_train": 300, "n_test": 100}
    sources.prepare(other, tmp_path / default_config["data_dir"] / name)
    said = cache_generated_data(tmp_path)
    assert "differs from data.dvc" in said and "left unchanged" in said
    assert (tmp_path / "data.dvc").read_bytes() == (repo / "data.dvc").read_bytes()
