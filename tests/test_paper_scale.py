"""Windows of the paper-scale replication on the CPU: packs (what is packed and left out, the
size limit, checked unpacking), the planner over a slice list, batched linear probes and the
one-sort AUROC / AUPRC against scikit-learn."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from sslbench.analysis.prediction import auroc_auprc
from sslbench.evaluation.linear_probe import LinearProbeSpec, linear_probe, linear_probes
from sslbench.paper_scale import pack, slices

MiB = 1024 * 1024


def _run_root(root: Path) -> Path:
    """A run folder as a window leaves it: results with weights and checkpoints, logs, data."""
    run = root / "results/d/simclr/seed0/pretrain-none"
    (run / "checkpoints").mkdir(parents=True)
    (run / "eval.json").write_text(json.dumps({"linear_probe_accuracy": 0.8}))
    (run / "model.pt").write_bytes(b"weights")
    (run / "checkpoints/epoch_0001.pt").write_bytes(b"checkpoint")
    (run / "checkpoints/.trainer.lock").write_text("")
    (root / "logs/pretrain").mkdir(parents=True)
    (root / "logs/pretrain/d.log").write_text("pretrain: start-up 1.0 s, stage 2.0 s\n")
    (root / "data/d").mkdir(parents=True)
    (root / "data/d/meta.json").write_text("{}")
    (root / "data/d/train.npy").write_bytes(b"images")
    return root


def _manifest(slice_id: str = "S1", created: str = "2026-12-04T00:00:00+00:00") -> dict:
    return {"slice": slice_id, "created": created, "config_layers": []}


def test_a_pack_holds_results_logs_and_meta_but_no_weights(tmp_path):
    root = _run_root(tmp_path / "run")
    assert [str(p) for p in pack.packed_files(root)] == [
        "data/d/meta.json",
        "logs/pretrain/d.log",
        "results/d/simclr/seed0/pretrain-none/eval.json",
    ]
    out = tmp_path / "S1.tar.gz"
    size = pack.write_pack(root, _manifest(), out, 16 * MiB, runs=[{"run_id": "abc"}])
    assert size == out.stat().st_size
    manifest = pack.unpack(out, tmp_path / "fresh")
    assert manifest["slice"] == "S1"
    assert set(manifest["files"]) == {*map(str, pack.packed_files(root)), pack.MLFLOW_RUNS}
    for name in pack.packed_files(root):
        assert (tmp_path / "fresh" / name).read_bytes() == (root / name).read_bytes()
    assert json.loads((tmp_path / "fresh" / pack.MLFLOW_RUNS).read_text()) == [{"run_id": "abc"}]
    assert not list((tmp_path / "fresh").rglob("*.pt"))


def test_a_pack_over_the_limit_is_refused_with_its_size(tmp_path):
    root = _run_root(tmp_path / "run")
    (root / "logs/big.log").write_bytes(np.random.default_rng(0).bytes(2 * MiB))
    out = tmp_path / "S1.tar.gz"
    with pytest.raises(pack.PackTooLargeError, match=r"would be 2\.\d MiB, over the limit of 1\.0"):
        pack.write_pack(root, _manifest(), out, 1 * MiB)
    assert not out.exists()


def test_unpacking_refuses_a_file_that_does_not_match_its_manifest(tmp_path):
    root = _run_root(tmp_path / "run")
    good = tmp_path / "good.tar.gz"
    pack.write_pack(root, _manifest(), good, 16 * MiB)
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(good) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.endswith("eval.json"):
                data = data.replace(b"0.8", b"0.9")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(ValueError, match="eval.json does not match its manifest hash"):
        pack.unpack(tampered, tmp_path / "fresh")
    with pytest.raises(ValueError, match="is not a readable pack"):
        pack.read_manifest(root / "logs/pretrain/d.log")


def _plan(tmp_path: Path, ids: list[str], layer: str = ".test/config/test.yaml") -> Path:
    entries = [{"id": i, "title": i, "papers": ["001"], "layers": [layer]} for i in ids]
    path = tmp_path / "slices.yaml"
    path.write_text(json.dumps({"pack_limit_mib": 16, "slices": entries}))
    return path


def test_the_planner_picks_the_first_unpublished_slice_and_skips_published_ones(tmp_path):
    plan = slices.load_plan(_plan(tmp_path, ["S1", "S2", "S3"]))
    packs = tmp_path / "packs"
    packs.mkdir()
    assert slices.published_slices(packs) == []
    assert plan.next_slice([]).id == "S1"
    root = _run_root(tmp_path / "run")
    pack.write_pack(root, _manifest("S1"), packs / "S1-a.tar.gz", 16 * MiB)
    pack.write_pack(root, _manifest("S3"), packs / "S3-a.tar.gz", 16 * MiB)
    assert slices.published_slices(packs) == ["S1", "S3"]
    assert plan.next_slice(slices.published_slices(packs)).id == "S2"
    assert plan.next_slice(["S1", "S2", "S3"]) is None
    assert plan.get("S2").configfiles == (slices.BASE_LAYER, ".test/config/test.yaml")
    with pytest.raises(ValueError, match="no slice 'S9'; slices are S1, S2, S3"):
        plan.get("S9")


def test_a_slice_naming_a_missing_layer_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"slice S1 names missing config files \['nowhere.yaml'\]"):
        slices.load_plan(_plan(tmp_path, ["S1"], layer="nowhere.yaml"))


def test_the_shipped_slice_list_loads_and_names_existing_layers():
    plan = slices.load_plan()
    assert plan.slices and plan.pack_limit_mib <= 16
    assert all(s.layers for s in plan.slices)


def _data(n: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=g)
    return x, (x[:, :3] @ torch.tensor([1.0, -1.0, 0.5])).gt(0).long() + (x[:, 3] > 1).long()


def test_probes_trained_side_by_side_equal_each_probe_trained_alone():
    """Every block of the batched classifier gets exactly its own gradient and step: the
    probes of different widths (zero-padded) give the same predictions as one at a time."""
    x, y = _data(600, 12, 0)
    x_test, y_test = _data(200, 12, 1)
    spec = LinearProbeSpec(epochs=4, batch_size=64, weight_decay=1e-3)
    subsets = [slice(0, 3), slice(0, 12), slice(4, 9)]
    together = linear_probes([(x[:, s], x_test[:, s]) for s in subsets], y, y_test, spec)
    for subset, batched in zip(subsets, together, strict=True):
        alone = linear_probe(x[:, subset], y, x_test[:, subset], y_test, spec)
        assert torch.equal(alone.predictions, batched.predictions)
        assert torch.allclose(alone.confidence, batched.confidence, atol=1e-6)
        assert alone.accuracy == batched.accuracy
    assert together[1].accuracy > together[2].accuracy  # the informative features win


@pytest.mark.parametrize("levels", [None, 2, 7])
def test_auroc_and_auprc_equal_scikit_learns_with_and_without_ties(levels):
    rng = np.random.default_rng(levels or 0)
    n = 3000
    score = rng.standard_normal(n) if levels is None else rng.integers(0, levels, n) * 1.0
    correct = rng.random(n) < 0.3 + 0.4 * (score > np.median(score))
    auroc, auprc = auroc_auprc(score, correct)
    assert auroc == pytest.approx(roc_auc_score(correct, score), abs=1e-12)
    assert auprc == pytest.approx(average_precision_score(correct, score), abs=1e-12)


def test_a_window_names_its_commit_where_the_copys_git_is_stale(monkeypatch):
    from sslbench import provenance

    provenance.git_state.cache_clear()
    monkeypatch.setenv(provenance.COMMIT_ENV, "51c100b")
    try:
        state = provenance.git_state()
    finally:
        provenance.git_state.cache_clear()
    assert state == {"git_commit": "51c100b", "git_dirty": "as given by SSLBENCH_COMMIT"}


def test_probe_stages_report_their_device_in_fp32():
    from sslbench.device import Compute, probe_compute
    from sslbench.provenance import compute_settings

    job = Compute(torch.device("cpu"), torch.bfloat16, channels_last=True)
    assert compute_settings(probe_compute(job)) == {
        "device": "cpu",
        "precision": "fp32",
        "layout": "contiguous",
    }


def test_the_published_verdict_table_is_the_packs_rendered_with_the_current_rules():
    """docs/paper_scale.md must be regenerated when a rule or a pack changes
    (python -m sslbench.paper_scale.render table --out docs/paper_scale.md)."""
    from sslbench.paper_scale import render

    packs = sorted(slices.PUBLISHED.glob("*.tar.gz"))
    expected = render.markdown(render.union_table(packs))
    assert (slices.REPO / "docs/paper_scale.md").read_text() == expected


def test_every_shipped_slice_validates_and_trains_what_its_title_names(tmp_path, schema_path):
    """Each slice's layers, its overrides and a window's machine layer make a valid config whose
    DAG trains one method's baseline and 001's fine-tunes (plus 000's for S1)."""
    import yaml

    from sslbench import dag
    from sslbench.config import layered_config, merged_config, validate_config

    images = tmp_path / "cifar10"
    for split in ("train", "test"):
        (images / split / "airplane").mkdir(parents=True)
    machine = {"datasets": {"cifar10": {"path": str(images)}}, "compute": {"jobs_per_gpu": 8}}
    for item in slices.load_plan().slices:
        files = [slices.REPO / name for name in item.configfiles]
        config = merged_config(layered_config(files), item.overrides, machine)
        validate_config(yaml.safe_load(yaml.safe_dump(config)), schema_path)
        (method,) = config["pretrain"]["methods"]
        assert method in item.title.lower().replace(" ", "").replace("+", "") or (
            method == "simclr" and "SimCLR" in item.title
        ), item.id
        variants = {f"{p}-{r}" for p, r in dag.variants(config)[method]}
        assert {"pretrain-none", "finetune-none", "finetune-lasso", "finetune-qscore"} <= variants
        assert ("finetune000-qscore_v1" in variants) == (item.id == "S1"), item.id
