"""Tests for the deterministic Trifeature generator (Hermann & Lampinen, 2020)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from sslbench.data.trifeature import (
    COLOURS,
    DEFAULT_BACKGROUND,
    FACTORS,
    NUM_VALUES,
    SHAPES,
    SPLIT_FILES,
    TEXTURES,
    TrifeatureSplit,
    generate_trifeature,
    read_split,
    render_trifeature,
    shade_of,
    write_split,
)

N = 200
SIZE = 32
SEED = 7


@pytest.fixture(scope="module")
def split() -> TrifeatureSplit:
    return generate_trifeature(N, SIZE, SEED)


def _downsample2(images: np.ndarray) -> np.ndarray:
    n, h, w, c = images.shape
    return images.astype(np.float64).reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


# --------------------------------------------------------------------------- factors


def test_factor_names_match_the_original_generator() -> None:
    assert FACTORS == ("shape", "texture", "colour")
    assert len(SHAPES) == len(TEXTURES) == len(COLOURS) == NUM_VALUES == 10
    assert SHAPES[:5] == ("triangle", "square", "plus", "circle", "tee")
    assert TEXTURES[:5] == ("solid", "stripes", "grid", "hexgrid", "dots")
    assert len({rgb for _, rgb in COLOURS}) == NUM_VALUES


def test_each_factor_value_appears_exactly_n_over_10_times(split: TrifeatureSplit) -> None:
    for column, factor in enumerate(FACTORS):
        counts = np.bincount(split.labels[:, column], minlength=NUM_VALUES)
        assert counts.tolist() == [N // NUM_VALUES] * NUM_VALUES, factor


def test_factor_counts_differ_by_at_most_one_for_other_n() -> None:
    labels = generate_trifeature(23, 16, 0).labels
    for column in range(len(FACTORS)):
        counts = np.bincount(labels[:, column], minlength=NUM_VALUES)
        assert counts.sum() == 23
        assert set(counts.tolist()) == {2, 3}


def test_factors_are_shuffled_independently(split: TrifeatureSplit) -> None:
    # Not all images share one texture for a given shape: combinations are mixed.
    combos = {tuple(row) for row in split.labels.tolist()}
    assert len(combos) > N // 2
    assert np.any(split.labels[:, 0] != split.labels[:, 1])


# --------------------------------------------------------------------------- arrays


def test_shapes_dtypes_and_ranges(split: TrifeatureSplit) -> None:
    assert len(split) == N
    assert split.images.shape == (N, SIZE, SIZE, 3) and split.images.dtype == np.uint8
    assert split.masks.shape == (N, SIZE, SIZE) and split.masks.dtype == np.bool_
    assert split.labels.shape == (N, 3) and split.labels.dtype == np.int64
    assert split.labels.min() == 0 and split.labels.max() == NUM_VALUES - 1


def test_background_is_exact_grey_and_mask_is_the_drawn_shape(split: TrifeatureSplit) -> None:
    assert np.all(split.images[~split.masks] == DEFAULT_BACKGROUND)
    # Every shape pixel differs from the background, so the mask is exactly what is drawn.
    assert np.array_equal(split.masks, (split.images != DEFAULT_BACKGROUND).any(axis=-1))
    assert split.masks.reshape(N, -1).any(axis=1).all()


def test_custom_background_value() -> None:
    sp = generate_trifeature(20, SIZE, SEED, background=40)
    assert np.all(sp.images[~sp.masks] == 40)
    assert np.array_equal(sp.masks, (sp.images != 40).any(axis=-1))


def test_every_shape_covers_a_sensible_fraction_and_stays_inside(split: TrifeatureSplit) -> None:
    fractions = split.masks.mean(axis=(1, 2))
    for s, name in enumerate(SHAPES):
        per_shape = fractions[split.labels[:, 0] == s]
        assert per_shape.size > 0
        assert per_shape.min() > 0.04 and per_shape.max() < 0.45, name
    border = np.concatenate(
        [split.masks[:, 0], split.masks[:, -1], split.masks[:, :, 0], split.masks[:, :, -1]]
    )
    assert not border.any()


def test_shapes_have_distinct_masks() -> None:
    masks = [render_trifeature(s, "solid", "red", 64)[1] for s in range(NUM_VALUES)]
    for i, j in combinations(range(NUM_VALUES), 2):
        assert np.count_nonzero(masks[i] ^ masks[j]) > 20, (SHAPES[i], SHAPES[j])


def test_rotation_and_position_vary(split: TrifeatureSplit) -> None:
    ys, xs = np.nonzero(split.masks.sum(axis=0))
    assert xs.max() - xs.min() > SIZE // 2 and ys.max() - ys.min() > SIZE // 2
    centroids = np.array([np.argwhere(m).mean(axis=0) for m in split.masks])
    assert centroids.std(axis=0).min() > 1.0
    base = render_trifeature("square", "solid", "red", 64, rotation_deg=0.0)[1]
    turned = render_trifeature("square", "solid", "red", 64, rotation_deg=30.0)[1]
    assert np.count_nonzero(base ^ turned) > 50


# --------------------------------------------------------------------------- textures/colours


def test_textures_differ_and_use_two_tones() -> None:
    images, masks = zip(
        *(render_trifeature("circle", t, "green", 64, 20.0) for t in TEXTURES), strict=True
    )
    assert all(np.array_equal(masks[0], m) for m in masks)
    inside = [img[masks[0]] for img in images]
    for i, j in combinations(range(NUM_VALUES), 2):
        assert not np.array_equal(inside[i], inside[j]), (TEXTURES[i], TEXTURES[j])
    on, off = np.array(COLOURS[1][1]), np.array(shade_of(COLOURS[1][1]))
    assert np.all(inside[0] == on)  # solid
    for name, pixels in zip(TEXTURES[1:], inside[1:], strict=True):
        assert np.any(np.all(pixels == on, axis=1)), name
        assert np.any(np.all(pixels == off, axis=1)), name


def test_stripe_count_scales_with_image_size() -> None:
    counts = []
    for size in (64, 128):
        image, mask = render_trifeature("square", "stripes", "red", size)
        row, inside = image[size // 2], mask[size // 2]
        is_on = row[inside][:, 1] < 51  # red: G = 0; its shade: G = 102
        counts.append(np.count_nonzero(np.diff(is_on.astype(int))))
    assert counts[0] >= 3
    assert abs(counts[0] - counts[1]) <= 1


def test_same_seed_at_twice_the_size_is_the_same_scene(split: TrifeatureSplit) -> None:
    big = generate_trifeature(N, 2 * SIZE, SEED)
    assert np.array_equal(big.labels, split.labels)
    small_masks = big.masks.reshape(N, SIZE, 2, SIZE, 2).all(axis=(2, 4)) & split.masks
    textured = (split.labels[:, 1] != TEXTURES.index("solid"))[:, None, None]
    select = small_masks & textured
    diff = np.abs(_downsample2(big.images) - split.images)[select]
    # Textures whose period were fixed in pixels would be twice as fine at 64 px; the mean
    # difference would then be about 25 grey levels instead of about 1.
    assert diff.mean() < 6.0


def test_colours_give_distinct_mean_colours(split: TrifeatureSplit) -> None:
    means = []
    for c in range(NUM_VALUES):
        chosen = split.labels[:, 2] == c
        means.append(split.images[chosen][split.masks[chosen]].astype(float).mean(axis=0))
    for i, j in combinations(range(NUM_VALUES), 2):
        assert np.linalg.norm(means[i] - means[j]) > 30.0, (COLOURS[i][0], COLOURS[j][0])


# --------------------------------------------------------------------------- determinism & io


def test_same_seed_gives_identical_arrays(split: TrifeatureSplit) -> None:
    again = generate_trifeature(N, SIZE, SEED)
    assert np.array_equal(again.images, split.images)
    assert np.array_equal(again.masks, split.masks)
    assert np.array_equal(again.labels, split.labels)


def test_different_seed_gives_different_images(split: TrifeatureSplit) -> None:
    other = generate_trifeature(N, SIZE, SEED + 1)
    assert not np.array_equal(other.images, split.images)
    assert not np.array_equal(other.labels, split.labels)
    assert np.mean(np.any(other.images != split.images, axis=(1, 2, 3))) > 0.9


def test_written_files_are_byte_identical(split: TrifeatureSplit, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b" / "nested"
    write_split(split, first)
    write_split(generate_trifeature(N, SIZE, SEED), second)
    for filename in SPLIT_FILES.values():
        assert (first / filename).read_bytes() == (second / filename).read_bytes(), filename
    assert sorted(p.name for p in first.iterdir()) == sorted(SPLIT_FILES.values())


def test_read_split_round_trips(split: TrifeatureSplit, tmp_path: Path) -> None:
    write_split(split, tmp_path)
    loaded = read_split(tmp_path)
    assert loaded.images.dtype == np.uint8 and loaded.masks.dtype == np.bool_
    assert np.array_equal(loaded.images, split.images)
    assert np.array_equal(loaded.masks, split.masks)
    assert np.array_equal(loaded.labels, split.labels)


def test_read_split_missing_file_is_named(split: TrifeatureSplit, tmp_path: Path) -> None:
    write_split(split, tmp_path)
    (tmp_path / "masks.npy").unlink()
    with pytest.raises(FileNotFoundError, match="masks.npy"):
        read_split(tmp_path)
    with pytest.raises(FileNotFoundError, match="images.npy"):
        read_split(tmp_path / "does-not-exist")


def test_read_split_malformed_file_is_named(split: TrifeatureSplit, tmp_path: Path) -> None:
    write_split(split, tmp_path)
    (tmp_path / "labels.npy").write_bytes(b"not an npy file")
    with pytest.raises(ValueError, match="labels.npy"):
        read_split(tmp_path)
    np.save(tmp_path / "labels.npy", split.labels.astype(np.float32))
    with pytest.raises(ValueError, match="labels.npy"):
        read_split(tmp_path)
    np.save(tmp_path / "labels.npy", split.labels)
    np.save(tmp_path / "masks.npy", split.masks[:-1])
    with pytest.raises(ValueError, match="masks.npy"):
        read_split(tmp_path)


def test_split_rejects_inconsistent_arrays(split: TrifeatureSplit) -> None:
    with pytest.raises(ValueError, match="labels"):
        TrifeatureSplit(split.images, split.masks, split.labels + NUM_VALUES)
    with pytest.raises(ValueError, match="images"):
        TrifeatureSplit(split.images.astype(np.float32), split.masks, split.labels)


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 0}, "n"),
        ({"n": -5}, "n"),
        ({"n": 2.5}, "n"),
        ({"image_size": 15}, "image_size"),
        ({"image_size": 4096}, "image_size"),
        ({"image_size": True}, "image_size"),
        ({"seed": -1}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"background": 256}, "background"),
        ({"background": -1}, "background"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs: dict, name: str) -> None:
    args = {"n": 10, "image_size": SIZE, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must be .*(\[|>=)"):
        generate_trifeature(**args)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"shape": "hexagon"}, "shape"),
        ({"texture": 10}, "texture"),
        ({"colour": -1}, "colour"),
        ({"image_size": 8}, "image_size"),
    ],
)
def test_render_rejects_bad_factor_values(kwargs: dict, name: str) -> None:
    args = {"shape": 0, "texture": 0, "colour": 0, "image_size": SIZE, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        render_trifeature(**args)
