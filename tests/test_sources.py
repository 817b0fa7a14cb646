import hashlib
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torchvision import datasets

from sslbench.data import sources


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write_folder(root, classes=("cat", "dog"), per_class=3, size=20):
    rng = np.random.default_rng(0)
    for split in sources.SPLITS:
        for name in classes:
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{i:04d}.png")


def test_imagefolder_is_prepared_with_classes_and_resized(tmp_path):
    _write_folder(tmp_path / "src")
    spec = {
        "source": "imagefolder",
        "target": "class",
        "path": str(tmp_path / "src"),
        "image_size": 16,
    }
    meta = sources.prepare(spec, tmp_path / "out")
    assert meta["classes"] == {"class": ["cat", "dog"]} and not meta["has_masks"]
    split = sources.load_split(tmp_path / "out", "test")
    assert split.images.shape == (6, 3, 16, 16) and split.masks is None
    assert split.labels[:, 0].tolist() == [0, 0, 0, 1, 1, 1]


def test_imagefolder_subset_is_stratified_and_seeded(tmp_path):
    _write_folder(tmp_path / "src", classes=("a", "b", "c"), per_class=6, size=8)
    spec = {
        "source": "imagefolder",
        "target": "class",
        "path": str(tmp_path / "src"),
        "image_size": 8,
        "n_train": 7,
        "n_test": 3,
        "seed": 1,
    }
    meta = sources.prepare(spec, tmp_path / "a")
    train = sources.load_split(tmp_path / "a", "train")
    test = sources.load_split(tmp_path / "a", "test")
    assert np.bincount(train.labels[:, 0].numpy()).tolist() == [3, 2, 2]
    assert np.bincount(test.labels[:, 0].numpy()).tolist() == [1, 1, 1]
    assert sources.prepare(spec, tmp_path / "b")["version"] == meta["version"]
    assert sources.prepare({**spec, "seed": 2}, tmp_path / "c")["version"] != meta["version"]


def test_stratified_subset_keeps_every_file_when_asked_for_more():
    files = [(f"f{i}", i % 2) for i in range(4)]
    assert sources.stratified_subset(files, 10, np.random.default_rng(0)) == files


def test_missing_split_directory_is_named(tmp_path):
    (tmp_path / "src" / "train" / "a").mkdir(parents=True)
    spec = {
        "source": "imagefolder",
        "target": "class",
        "path": str(tmp_path / "src"),
        "image_size": 16,
    }
    with pytest.raises(FileNotFoundError, match="test"):
        sources.prepare(spec, tmp_path / "out")


def test_trifeature_preparation_is_reproducible(tmp_path):
    spec = {
        "source": "trifeature",
        "target": "shape",
        "image_size": 16,
        "n_train": 30,
        "n_test": 20,
        "seed": 3,
    }
    a = sources.prepare(spec, tmp_path / "a")
    b = sources.prepare(spec, tmp_path / "b")
    assert a["version"] == b["version"]
    assert (tmp_path / "a" / "meta.json").read_bytes() == (
        tmp_path / "b" / "meta.json"
    ).read_bytes()
    train = sources.load_split(tmp_path / "a", "train")
    assert train.images.shape == (30, 3, 16, 16) and train.masks.shape == (30, 16, 16)
    other = sources.prepare({**spec, "seed": 4}, tmp_path / "c")
    assert other["version"] != a["version"]


def _write_cifar10(root, n=4):
    """A tiny tree in CIFAR-10's on-disk format (cifar-10-batches-py pickles)."""
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        with open(base / name, "wb") as fh:
            pickle.dump({"data": data, "labels": labels}, fh)
        written[name] = (data, labels)
    names = [f"class{i}" for i in range(10)]
    with open(base / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": names}, fh)
    return base, written, names


def test_torchvision_cifar10_reader_on_its_on_disk_format(tmp_path):
    base, written, names = _write_cifar10(tmp_path)

    class LocalCIFAR10(datasets.CIFAR10):
        """torchvision's CIFAR-10 with the checksums of the files this test wrote."""

        train_list = [[f"data_batch_{i}", _md5(base / f"data_batch_{i}")] for i in range(1, 6)]
        test_list = [["test_batch", _md5(base / "test_batch")]]
        meta = {**datasets.CIFAR10.meta, "md5": _md5(base / "batches.meta")}

    images, labels, classes = sources.read_torchvision(LocalCIFAR10, tmp_path, "test", False)
    data, expected = written["test_batch"]
    assert classes == names
    assert np.array_equal(images, data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert labels[:, 0].tolist() == expected
    train, _, _ = sources.read_torchvision(LocalCIFAR10, tmp_path, "train", False)
    assert train.shape == (20, 32, 32, 3)


def test_torchvision_stl10_reader_on_its_on_disk_format(tmp_path):
    base = tmp_path / "stl10_binary"
    base.mkdir()
    rng = np.random.default_rng(0)
    stored = {}
    for split, n in (("train", 3), ("test", 2), ("unlabeled", 1)):
        pixels = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)
        pixels.tofile(base / f"{split}_X.bin")
        stored[split] = pixels
        if split != "unlabeled":
            (rng.integers(1, 11, n).astype(np.uint8)).tofile(base / f"{split}_y.bin")
    (base / "class_names.txt").write_text("\n".join(f"c{i}" for i in range(10)) + "\n")

    class LocalSTL10(datasets.STL10):
        train_list = [
            [f, _md5(base / f)] for f in ("train_X.bin", "train_y.bin", "unlabeled_X.bin")
        ]
        test_list = [[f, _md5(base / f)] for f in ("test_X.bin", "test_y.bin")]

    images, labels, classes = sources.read_torchvision(LocalSTL10, tmp_path, "train", False)
    assert images.shape == (3, 96, 96, 3) and classes[0] == "c0"
    # STL-10 stores images column-major; torchvision transposes them back.
    assert np.array_equal(images, stored["train"].transpose(0, 3, 2, 1))
    expected = (np.fromfile(base / "train_y.bin", dtype=np.uint8) - 1).tolist()
    assert labels[:, 0].tolist() == expected


def test_unknown_torchvision_dataset_is_named():
    with pytest.raises(ValueError, match="imagenet"):
        sources.torchvision_class("imagenet")


def test_n_train_beyond_the_images_is_refused_naming_the_key(tmp_path):
    """Issue 22 fault 5: a larger n_train was silently capped to the images there are."""
    _write_folder(tmp_path / "src", per_class=3, size=8)
    spec = {
        "source": "imagefolder",
        "target": "class",
        "path": str(tmp_path / "src"),
        "image_size": 8,
        "n_train": 100,
        "seed": 0,
    }
    with pytest.raises(ValueError, match=r"datasets\.\*\.n_train: 100 exceeds the 6 images in"):
        sources.prepare(spec, tmp_path / "out")


def _claim_size(png: Path, width: int, height: int) -> None:
    """Rewrite a PNG's header (IHDR) to claim ``width`` x ``height`` pixels, with a valid CRC."""
    data = bytearray(png.read_bytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    png.write_bytes(bytes(data))


def test_an_oversized_image_is_named(tmp_path):
    """Issue 22 fault 5: a 15000 x 15000 PNG raised an uncaught DecompressionBombError."""
    _write_folder(tmp_path / "src", per_class=2, size=8)
    bomb = tmp_path / "src" / "train" / "dog" / "0001.png"
    _claim_size(bomb, 15000, 15000)
    spec = {
        "source": "imagefolder",
        "target": "class",
        "path": str(tmp_path / "src"),
        "image_size": 8,
    }
    with pytest.raises(ValueError, match=rf"image file {bomb} is too large to decode safely"):
        sources.prepare(spec, tmp_path / "out")


def test_torchvision_dataset_reads_an_imagefolder_export_without_downloading(tmp_path):
    _write_folder(tmp_path / "export", size=20)
    spec = {
        "source": "torchvision",
        "name": "cifar10",
        "target": "class",
        "path": str(tmp_path / "nowhere"),
        "download": True,
        "image_folder": str(tmp_path / "export"),
    }
    meta = sources.prepare(spec, tmp_path / "out")
    assert meta["source"] == "torchvision (ImageFolder)" and meta["image_size"] == 32
    assert sources.load_split(tmp_path / "out", "train").images.shape[2:] == (32, 32)
    assert not (tmp_path / "nowhere").exists()


def test_torchvision_dataset_missing_offline_says_how_to_give_it(tmp_path):
    spec = {"name": "cifar10", "path": str(tmp_path), "download": False}
    with pytest.raises(RuntimeError, match=r"not be read \(download: false\).*image_folder"):
        sources.prepare({"source": "torchvision", "target": "class", **spec}, tmp_path / "out")
