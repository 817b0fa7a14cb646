"""Data whose bytes changed after preparation is detected, and a missing or corrupt image in an
ImageFolder is named. (DVC's view of the same is tested in tests/test_dvc.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sslbench.data import sources

pytestmark = pytest.mark.reliability

SPEC = {
    "source": "trifeature",
    "target": "shape",
    "image_size": 16,
    "n_train": 20,
    "n_test": 10,
    "seed": 0,
}


@pytest.fixture
def prepared(tmp_path):
    sources.prepare(SPEC, tmp_path / "tri")
    return tmp_path / "tri"


def test_changed_bytes_after_preparation_are_named(prepared):
    target = prepared / "train" / "labels.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"train/labels\.npy differs from the version recorded"):
        sources.load_split(prepared, "train")
    sources.load_split(prepared, "test")  # the untouched split still loads


def test_missing_prepared_file_is_named(prepared):
    (prepared / "test" / "masks.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"test/masks\.npy is missing"):
        sources.load_split(prepared, "test")


def _folder(root):
    for split in sources.SPLITS:
        for name in ("a", "b"):
            (root / split / name).mkdir(parents=True)
            for i in range(2):
                pixels = np.full((8, 8, 3), 40 * i, dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{i}.png")
    return {"source": "imagefolder", "target": "class", "path": str(root), "image_size": 8}


def test_missing_image_file_in_imagefolder_is_named(tmp_path):
    spec = _folder(tmp_path / "src")
    (tmp_path / "src/test/b/9.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(ValueError, match=r"test/b/9\.png"):
        sources.prepare(spec, tmp_path / "out")


def test_corrupt_image_file_in_imagefolder_is_named(tmp_path):
    spec = _folder(tmp_path / "src")
    (tmp_path / "src/train/a/1.png").write_bytes(b"\x89PNG truncated")
    with pytest.raises(ValueError, match=r"corrupt or unreadable image file: .*train/a/1\.png"):
        sources.prepare(spec, tmp_path / "out")


def test_truncated_intermediates_are_named_with_how_to_redo_them(prepared, tmp_path):
    """A truncated features.pt and a truncated JSON (meta.json here) stop the stage reading
    them with the file's name and the remedy, not a bare OSError or JSONDecodeError."""
    import torch

    from sslbench.stages.evaluate import labelled_features

    features = tmp_path / "features.pt"
    torch.save({"h_train": torch.zeros(4, 2)}, features)
    features.write_bytes(features.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"features\.pt is unreadable .*delete it and rerun"):
        labelled_features(prepared, features, "shape")
    meta = prepared / "meta.json"
    meta.write_text(meta.read_text()[:20])
    with pytest.raises(ValueError, match=r"meta\.json is unreadable .*truncated or corrupted"):
        sources.load_meta(prepared)
