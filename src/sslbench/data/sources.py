"""Dataset sources, all written to one on-disk layout that every later stage reads.

Layout of a prepared dataset directory::

    <data_dir>/<name>/meta.json             source, factors, class names, file hashes
    <data_dir>/<name>/{train,test}/images.npy   uint8 (N, H, W, 3)
    <data_dir>/<name>/{train,test}/labels.npy   int64 (N, n_factors)
    <data_dir>/<name>/{train,test}/masks.npy    bool (N, H, W) — core-region masks, when known

Sources: ``trifeature`` (generated, Hermann & Lampinen 2020 / 004 §2.2), ``imagefolder`` (a
``<root>/{train,test}/<class>/<image>`` tree such as CIFAR-10 or ImageNet-100 exports) and
``torchvision`` (CIFAR-10, CIFAR-100, STL-10 through torchvision's dataset classes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sslbench.data import trifeature
from sslbench.io import atomic_path, read_json, write_json

SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".webp")
TORCHVISION_DATASETS = ("cifar10", "cifar100", "stl10")
#: Each torchvision dataset's own image size: an ImageFolder export of it is read at this size.
NATIVE_IMAGE_SIZE = {"cifar10": 32, "cifar100": 32, "stl10": 96}


@dataclass(frozen=True)
class Split:
    """One split in memory: uint8 images (N, 3, H, W), labels (N, n_factors), optional masks."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor | None


def prepare(spec: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Materialise the dataset described by config block ``spec`` into ``out_dir``."""
    source = spec["source"]
    if source == "trifeature":
        meta = _prepare_trifeature(spec, out_dir)
    elif source == "imagefolder":
        meta = _prepare_imagefolder(spec, out_dir)
    elif source == "torchvision":
        meta = _prepare_torchvision(spec, out_dir)
    else:
        raise ValueError(
            f"datasets.*.source: unknown {source!r}; allowed trifeature, imagefolder, torchvision"
        )
    meta["files"] = {
        str(p.relative_to(out_dir)): _sha256(p) for p in sorted(out_dir.glob("*/*.npy"))
    }
    meta["version"] = hashlib.sha256(
        "".join(f"{k}:{v}\n" for k, v in meta["files"].items()).encode()
    ).hexdigest()[:16]
    write_json(out_dir / "meta.json", meta)
    return meta


def _write_arrays(out_dir: Path, split: str, arrays: dict[str, np.ndarray]) -> None:
    for name, array in arrays.items():
        with atomic_path(out_dir / split / f"{name}.npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, array)


def _prepare_trifeature(spec: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    for offset, split in enumerate(SPLITS):
        data = trifeature.generate_trifeature(
            n=spec[f"n_{split}"], image_size=spec["image_size"], seed=spec["seed"] * 2 + offset
        )
        trifeature.write_split(data, out_dir / split)
    return {
        "source": "trifeature",
        "factors": list(trifeature.FACTORS),
        "classes": {
            "shape": list(trifeature.SHAPES),
            "texture": list(trifeature.TEXTURES),
            "colour": [name for name, _ in trifeature.COLOURS],
        },
        "image_size": spec["image_size"],
        "has_masks": True,
    }


def _prepare_imagefolder(spec: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    root = Path(spec["path"])
    classes: list[str] | None = None
    for split in SPLITS:
        split_dir = root / split
        if not split_dir.is_dir():
            raise FileNotFoundError(
                f"datasets.*.path: {split_dir} is not a directory; expected <path>/{split}/<class>/"
            )
        found = sorted(d.name for d in split_dir.iterdir() if d.is_dir())
        classes = classes or found
        if found != classes:
            raise ValueError(
                f"{split_dir}: classes {found} differ from the train split's {classes}"
            )
        files = [
            (f, c)
            for c, name in enumerate(classes)
            for f in sorted((split_dir / name).iterdir())
            if f.suffix.lower() in IMAGE_SUFFIXES
        ]
        limit = spec.get(f"n_{split}")
        if limit is not None and limit > len(files):
            raise ValueError(
                f"datasets.*.n_{split}: {limit} exceeds the {len(files)} images in {split_dir}; "
                f"use at most {len(files)} or leave n_{split} out to take them all"
            )
        if limit is not None:
            rng = np.random.default_rng([spec["seed"], SPLITS.index(split)])
            files = stratified_subset(files, limit, rng)
        size = spec["image_size"]
        images = np.empty((len(files), size, size, 3), dtype=np.uint8)
        for i, (path, _) in enumerate(files):
            try:
                with Image.open(path) as img:
                    img = img.convert("RGB")
                    if img.size != (size, size):
                        img = img.resize((size, size), Image.Resampling.BILINEAR)
                    images[i] = np.asarray(img)
            except (UnidentifiedImageError, OSError) as err:
                raise ValueError(f"corrupt or unreadable image file: {path} ({err})") from err
            except Image.DecompressionBombError as err:
                raise ValueError(
                    f"image file {path} is too large to decode safely ({err}); shrink or remove it"
                ) from err
        labels = np.array([[c] for _, c in files], dtype=np.int64).reshape(-1, 1)
        _write_arrays(out_dir, split, {"images": images, "labels": labels})
    return {
        "source": "imagefolder",
        "factors": ["class"],
        "classes": {"class": classes},
        "image_size": spec["image_size"],
        "has_masks": False,
    }


def stratified_subset(
    files: list[tuple[Path, int]], n: int, rng: np.random.Generator
) -> list[tuple[Path, int]]:
    """``n`` of the ``(file, class)`` pairs, each class keeping its share (rounded down, the
    remainder going to the largest classes first), drawn without replacement by ``rng``.

    Used to run an ImageFolder dataset at CPU scale (``datasets.<name>.n_train``/``n_test``);
    the kept files stay in their sorted order."""
    if n >= len(files):
        return files
    labels = np.array([c for _, c in files])
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n // len(files)
    for i in np.argsort(-counts, kind="stable")[: n - quota.sum()]:
        quota[i] += 1
    keep = np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == c), k, replace=False)
            for c, k in zip(classes, quota, strict=True)
        ]
    )
    return [files[i] for i in np.sort(keep)]


def torchvision_class(name: str) -> type:
    """torchvision's dataset class for config value ``datasets.*.name``."""
    from torchvision import datasets

    classes = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100, "stl10": datasets.STL10}
    if name not in classes:
        raise ValueError(f"datasets.*.name: unknown {name!r}; allowed {list(TORCHVISION_DATASETS)}")
    return classes[name]


def read_torchvision(
    dataset_cls: type, root: Path, split: str, download: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, H, W, 3) uint8, labels (N, 1) and class names of one split, read (and, if
    ``download``, fetched) by torchvision's own dataset class."""
    from torchvision import datasets

    if issubclass(dataset_cls, datasets.STL10):
        ds = dataset_cls(root, split=split, download=download)
        images, targets = ds.data.transpose(0, 2, 3, 1), ds.labels
    else:
        ds = dataset_cls(root, train=split == "train", download=download)
        images, targets = ds.data, ds.targets
    labels = np.asarray(targets, dtype=np.int64).reshape(-1, 1)
    return np.ascontiguousarray(images, dtype=np.uint8), labels, list(ds.classes)


def _prepare_torchvision(spec: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """torchvision's files in ``path`` (fetched there if ``download``), or, where the block
    gives ``image_folder``, an ImageFolder export of the same images at the dataset's own size
    (nothing downloaded: a node without internet)."""
    if spec.get("image_folder"):
        folder = {"path": spec["image_folder"], "image_size": NATIVE_IMAGE_SIZE[spec["name"]]}
        return _prepare_imagefolder(folder, out_dir) | {"source": "torchvision (ImageFolder)"}
    dataset_cls = torchvision_class(spec["name"])
    for split in SPLITS:
        try:
            images, labels, classes = read_torchvision(
                dataset_cls, Path(spec["path"]), split, spec["download"]
            )
        except (RuntimeError, OSError) as err:
            raise RuntimeError(
                f"datasets.*: torchvision's {spec['name']} is not in {spec['path']} and could "
                f"not be {'downloaded' if spec['download'] else 'read (download: false)'} "
                f"({err}); on a machine without internet give `image_folder: <tree>`, an "
                "ImageFolder export <tree>/{train,test}/<class>/<image> of the same images"
            ) from err
        _write_arrays(out_dir, split, {"images": images, "labels": labels})
    return {
        "source": "torchvision",
        "factors": ["class"],
        "classes": {"class": classes},
        "image_size": int(images.shape[1]),
        "has_masks": False,
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_meta(dataset_dir: Path) -> dict[str, Any]:
    """Read ``meta.json`` of a prepared dataset."""
    return read_json(dataset_dir / "meta.json")


def verify(dataset_dir: Path, split: str) -> None:
    """Check the split's files against the SHA-256 recorded in meta.json at preparation."""
    recorded = load_meta(dataset_dir)["files"]
    for name in sorted(n for n in recorded if n.startswith(f"{split}/")):
        path = dataset_dir / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; rerun the prepare stage")
        if _sha256(path) != recorded[name]:
            raise ValueError(
                f"{path} differs from the version recorded in {dataset_dir / 'meta.json'} "
                "(changed after preparation); delete the dataset folder and rerun the pipeline"
            )


def load_split(dataset_dir: Path, split: str) -> Split:
    """Load one prepared split as tensors (images channel-first, contiguous, uint8), after
    verifying its files against the hashes recorded at preparation."""
    split_dir = dataset_dir / split
    verify(dataset_dir, split)
    images = torch.from_numpy(np.load(split_dir / "images.npy"))
    labels = torch.from_numpy(np.load(split_dir / "labels.npy"))
    mask_file = split_dir / "masks.npy"
    masks = torch.from_numpy(np.load(mask_file)) if mask_file.is_file() else None
    return Split(images.permute(0, 3, 1, 2).contiguous(), labels, masks)
