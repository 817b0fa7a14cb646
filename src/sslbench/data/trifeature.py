"""Deterministic generator for the Trifeature dataset.

Trifeature (Hermann & Lampinen, 2020, "What shapes feature representations? Exploring
datasets, architectures, and training", NeurIPS) shows one shape, filled with one texture,
in one colour, on a uniform grey background. Each of the three factors takes 10 values
(1,000 combinations), and each image gets a random rotation and position. Robinson et al.
(2021, "Can contrastive learning avoid shortcut solutions?", NeurIPS, Sec. 2.2 and
App. C) use it to see which features a contrastive encoder picks up.

This is a fresh implementation, not the authors' code. The shape, texture and colour
names follow the original generator. The colour values and pattern geometry are our own.
Everything here is set by the constants below. Lengths are fractions of
``image_size``: the shape radius, the texture period and the line widths all scale with the
image, so a 64 px image is a sharper version of the same 32 px image.

Rendering of one image (:func:`render_trifeature`):

1. The shape's polygon(s) are defined on the unit disc, then rotated, scaled and
   translated, and drawn with ``PIL.ImageDraw`` on a canvas ``SUPERSAMPLE`` times larger.
   A pixel belongs to the mask when at least half of its sub-pixels are covered.
2. The texture is a binary pattern defined in the shape's own coordinate frame, so it
   rotates with the shape. It is sampled on the same sub-pixel grid and averaged, which
   gives each pixel a fraction in [0, 1].
3. Texture "on" sub-pixels take the colour and "off" sub-pixels take the colour's shade
   (a darker version of a light colour, a lighter version of a dark one), so the whole
   mask stays visibly the shape. Pixels outside the mask are exactly ``background``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from sslbench.io import atomic_path

__all__ = [
    "COLOURS",
    "COLOUR_NAMES",
    "DEFAULT_BACKGROUND",
    "FACTORS",
    "MAX_IMAGE_SIZE",
    "MIN_IMAGE_SIZE",
    "NUM_VALUES",
    "SHAPES",
    "SPLIT_FILES",
    "TEXTURES",
    "TrifeatureSplit",
    "generate_trifeature",
    "read_split",
    "render_trifeature",
    "shade_of",
    "write_split",
]

# --------------------------------------------------------------------------- factors

#: Shape names, in label order (Hermann & Lampinen, 2020).
SHAPES: tuple[str, ...] = (
    "triangle",
    "square",
    "plus",
    "circle",
    "tee",
    "rhombus",
    "pentagon",
    "star",
    "fivesquare",
    "trapezoid",
)
#: Texture names, in label order (Hermann & Lampinen, 2020).
TEXTURES: tuple[str, ...] = (
    "solid",
    "stripes",
    "grid",
    "hexgrid",
    "dots",
    "noise",
    "triangles",
    "zigzags",
    "rain",
    "pluses",
)
#: (name, sRGB) pairs, in label order. The names follow the original generator.
COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("red", (255, 0, 0)),
    ("green", (0, 255, 0)),
    ("blue", (0, 0, 255)),
    ("yellow", (255, 255, 0)),
    ("pink", (255, 102, 255)),
    ("cyan", (0, 255, 255)),
    ("purple", (77, 0, 128)),
    ("ocean", (26, 102, 128)),
    ("orange", (255, 153, 0)),
    ("white", (255, 255, 255)),
)
COLOUR_NAMES: tuple[str, ...] = tuple(name for name, _ in COLOURS)
#: Column order of ``TrifeatureSplit.labels``.
FACTORS: tuple[str, str, str] = ("shape", "texture", "colour")
#: Number of values per factor.
NUM_VALUES = 10

# --------------------------------------------------------------------------- geometry

MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 1024
UINT8_MAX = 255
#: Grey background value, the same in R, G and B (0.5 grey, as in the original).
DEFAULT_BACKGROUND = 128
#: Circumradius of every shape, as a fraction of the image side.
SHAPE_RADIUS_FRACTION = 0.3
#: Extra gap between the shape's circumcircle and the image border (fraction of the side).
BORDER_MARGIN_FRACTION = 0.03
#: Rotation range in degrees, sampled uniformly on [0, FULL_TURN_DEG).
FULL_TURN_DEG = 360.0
#: Sub-pixels per pixel side for the mask coverage and texture anti-aliasing.
SUPERSAMPLE = 4
#: A pixel belongs to the mask when at least this fraction of its sub-pixels is covered.
MASK_COVERAGE_THRESHOLD = 0.5
#: Vertices of the polygon that approximates the circle.
CIRCLE_VERTICES = 64

# --------------------------------------------------------------------------- textures

#: Texture period, as a fraction of the image side (pattern units below are periods).
TEXTURE_PERIOD_FRACTION = 0.15
#: Fraction of each stripe period that is "on".
STRIPE_DUTY = 0.5
#: Width of grid lines, in periods.
GRID_LINE_WIDTH = 0.25
#: Width of the hexagonal grid's lines, in periods (hexagon inradius is half a period).
HEX_LINE_WIDTH = 0.2
HEX_INRADIUS = 0.5
#: Dot radius, in periods.
DOT_RADIUS = 0.3
#: Side of one noise cell, in periods, and probability that a cell is "on".
NOISE_CELL = 0.5
NOISE_ON_PROBABILITY = 0.5
#: Gap between a triangle and its cell's bottom and top edges, in periods.
TRIANGLE_MARGIN = 0.12
#: Zigzag height and "on" fraction, in periods.
ZIGZAG_AMPLITUDE = 0.5
ZIGZAG_DUTY = 0.4
#: Rain: slant of the streaks, column spacing, streak half-width and length (periods).
RAIN_SLANT_DEG = 20.0
RAIN_COLUMN_SPACING = 0.5
RAIN_HALF_WIDTH = 0.1
RAIN_STREAK_LENGTH = 0.6
RAIN_ROW_STAGGER = 0.5
#: Plus signs: half arm length and half arm width, in periods.
PLUS_HALF_LENGTH = 0.35
PLUS_HALF_WIDTH = 0.1

# --------------------------------------------------------------------------- colours

#: Rec. 601 luma weights; a colour is "light" when its luma reaches the threshold.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
LUMA_THRESHOLD = 128.0
#: How far the texture's "off" shade moves a colour towards black (light) or white (dark).
SHADE_MIX = 0.4

# --------------------------------------------------------------------------- files

SPLIT_FILES: dict[str, str] = {
    "images": "images.npy",
    "masks": "masks.npy",
    "labels": "labels.npy",
}
NUM_CHANNELS = 3
IMAGE_NDIM = 4
MASK_NDIM = 3
LABEL_NDIM = 2

# Half-width of the noise lookup table, in cells. It covers the whole image in the
# shape's frame (diagonal / period) plus one period of phase, and it does not depend on
# image_size, so the same seed gives the same noise pattern at every resolution.
_NOISE_TABLE_HALF = math.ceil((math.sqrt(2.0) / TEXTURE_PERIOD_FRACTION + 1.0) / NOISE_CELL) + 1
_NOISE_TABLE_SIZE = 2 * _NOISE_TABLE_HALF + 1

Polygon = np.ndarray  # (V, 2) float vertices on the unit disc, y pointing up


# =========================================================================== shapes


def _regular_polygon(sides: int, radius: float = 1.0, start_deg: float = 90.0) -> Polygon:
    angles = np.deg2rad(start_deg + np.arange(sides) * FULL_TURN_DEG / sides)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star(points: int = 5, inner_ratio: float = 0.45) -> Polygon:
    outer = _regular_polygon(points)
    inner = _regular_polygon(points, inner_ratio, 90.0 + FULL_TURN_DEG / (2 * points))
    return np.stack([outer, inner], axis=1).reshape(-1, 2)


def _box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def _normalise(polygons: list[Polygon]) -> tuple[Polygon, ...]:
    """Centre the polygons' bounding box on the origin and scale them into the unit disc."""
    stacked = np.concatenate(polygons)
    centre = (stacked.min(axis=0) + stacked.max(axis=0)) / 2.0
    scale = np.linalg.norm(stacked - centre, axis=1).max()
    return tuple((p - centre) / scale for p in polygons)


def _fivesquare() -> list[Polygon]:
    # Five squares in a quincunx (die face). The corner squares overlap the centre one a
    # little, so the shape stays connected after rasterisation.
    half = 0.22
    centres = [(0.0, 0.0), (-0.4, -0.4), (0.4, -0.4), (-0.4, 0.4), (0.4, 0.4)]
    return [_box(x - half, y - half, x + half, y + half) for x, y in centres]


def _shape_polygons() -> dict[str, tuple[Polygon, ...]]:
    arm = 0.3
    defs: dict[str, list[Polygon]] = {
        "triangle": [_regular_polygon(3)],
        "square": [_regular_polygon(4, start_deg=45.0)],
        "plus": [
            np.array(
                [
                    [-arm, 1],
                    [arm, 1],
                    [arm, arm],
                    [1, arm],
                    [1, -arm],
                    [arm, -arm],
                    [arm, -1],
                    [-arm, -1],
                    [-arm, -arm],
                    [-1, -arm],
                    [-1, arm],
                    [-arm, arm],
                ],
                dtype=float,
            )
        ],
        "circle": [_regular_polygon(CIRCLE_VERTICES)],
        "tee": [
            np.array(
                [
                    [-1, 1],
                    [1, 1],
                    [1, 0.4],
                    [arm, 0.4],
                    [arm, -1],
                    [-arm, -1],
                    [-arm, 0.4],
                    [-1, 0.4],
                ],
                dtype=float,
            )
        ],
        "rhombus": [np.array([[0, 1], [0.6, 0], [0, -1], [-0.6, 0]], dtype=float)],
        "pentagon": [_regular_polygon(5)],
        "star": [_star()],
        "fivesquare": _fivesquare(),
        "trapezoid": [np.array([[-1, -0.5], [1, -0.5], [0.5, 0.5], [-0.5, 0.5]], dtype=float)],
    }
    assert tuple(defs) == SHAPES
    return {name: _normalise(polys) for name, polys in defs.items()}


_SHAPE_POLYGONS = _shape_polygons()


# =========================================================================== textures
# Each texture maps coordinates (a, b), in periods, in the shape's frame (b points up),
# to a boolean "on" array. ``rng`` is only used by the noise texture.

TextureFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _frac(x: np.ndarray) -> np.ndarray:
    return x - np.floor(x)


def _centred(x: np.ndarray) -> np.ndarray:
    """Position within the current period, in [-0.5, 0.5)."""
    return _frac(x) - 0.5


def _tex_solid(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ones(a.shape, dtype=bool)


def _tex_stripes(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _frac(a) < STRIPE_DUTY


def _tex_grid(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (_frac(a) < GRID_LINE_WIDTH) | (_frac(b) < GRID_LINE_WIDTH)


_SQRT3 = math.sqrt(3.0)


def _tex_hexgrid(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Hexagon centres form two rectangular lattices with cell (1, sqrt 3), offset by half a
    # cell. The offset to the nearest centre is the nearer of the two candidates.
    ha, hb = 0.5, _SQRT3 / 2.0
    a1, b1 = _frac(a) - ha, _frac(b / _SQRT3) * _SQRT3 - hb
    a2, b2 = _frac(a - ha) - ha, _frac((b - hb) / _SQRT3) * _SQRT3 - hb
    first = a1 * a1 + b1 * b1 <= a2 * a2 + b2 * b2
    ga = np.abs(np.where(first, a1, a2))
    gb = np.abs(np.where(first, b1, b2))
    hex_dist = np.maximum(ga, 0.5 * ga + hb * gb)  # = HEX_INRADIUS on the hexagon's edge
    return hex_dist > HEX_INRADIUS - HEX_LINE_WIDTH / 2.0


def _tex_dots(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ca, cb = _centred(a), _centred(b)
    return ca * ca + cb * cb < DOT_RADIUS * DOT_RADIUS


def _tex_noise(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    table = rng.random((_NOISE_TABLE_SIZE, _NOISE_TABLE_SIZE)) < NOISE_ON_PROBABILITY
    ia = np.clip(np.floor(a / NOISE_CELL).astype(np.intp) + _NOISE_TABLE_HALF, 0, None)
    ib = np.clip(np.floor(b / NOISE_CELL).astype(np.intp) + _NOISE_TABLE_HALF, 0, None)
    top = _NOISE_TABLE_SIZE - 1
    return table[np.minimum(ia, top), np.minimum(ib, top)]


def _tex_triangles(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # One upward-pointing triangle per cell.
    height = 1.0 - 2.0 * TRIANGLE_MARGIN
    t = (_frac(b) - TRIANGLE_MARGIN) / height  # 0 at the base, 1 at the apex
    half_width = (0.5 - TRIANGLE_MARGIN) * (1.0 - t)
    return (t >= 0.0) & (t <= 1.0) & (np.abs(_centred(a)) < half_width)


def _tex_zigzags(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    wave = ZIGZAG_AMPLITUDE * np.abs(2.0 * _frac(a) - 1.0)  # triangle wave along a
    return _frac(b + wave) < ZIGZAG_DUTY


_RAIN_COS = math.cos(math.radians(RAIN_SLANT_DEG))
_RAIN_SIN = math.sin(math.radians(RAIN_SLANT_DEG))


def _tex_rain(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Short slanted streaks in columns; each row of streaks is shifted by a half column.
    ra = _RAIN_COS * a - _RAIN_SIN * b
    rb = _RAIN_SIN * a + _RAIN_COS * b
    row = np.floor(rb)
    col = ra / RAIN_COLUMN_SPACING + RAIN_ROW_STAGGER * row
    return (np.abs(_centred(col)) * RAIN_COLUMN_SPACING < RAIN_HALF_WIDTH) & (
        _frac(rb) < RAIN_STREAK_LENGTH
    )


def _tex_pluses(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ca, cb = np.abs(_centred(a)), np.abs(_centred(b))
    horizontal = (ca < PLUS_HALF_LENGTH) & (cb < PLUS_HALF_WIDTH)
    vertical = (cb < PLUS_HALF_LENGTH) & (ca < PLUS_HALF_WIDTH)
    return horizontal | vertical


_TEXTURE_FNS: dict[str, TextureFn] = {
    "solid": _tex_solid,
    "stripes": _tex_stripes,
    "grid": _tex_grid,
    "hexgrid": _tex_hexgrid,
    "dots": _tex_dots,
    "noise": _tex_noise,
    "triangles": _tex_triangles,
    "zigzags": _tex_zigzags,
    "rain": _tex_rain,
    "pluses": _tex_pluses,
}
assert tuple(_TEXTURE_FNS) == TEXTURES


# =========================================================================== colours


def shade_of(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Return the second colour of a texture: ``rgb`` moved towards black or white.

    Light colours (luma >= ``LUMA_THRESHOLD``) are darkened and dark ones lightened by
    ``SHADE_MIX``, so both texture colours keep the hue and stay apart from each other.
    """
    luma = sum(w * c for w, c in zip(LUMA_WEIGHTS, rgb, strict=True))
    target = 0.0 if luma >= LUMA_THRESHOLD else float(UINT8_MAX)
    return tuple(round(c + SHADE_MIX * (target - c)) for c in rgb)  # type: ignore[return-value]


# =========================================================================== rendering


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an int in [low, high], else raise a ValueError naming it."""
    allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def _subpixel_grid(image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel centre coordinates (x, y), in pixels, each of shape (H*S, W*S)."""
    side = image_size * SUPERSAMPLE
    centres = (np.arange(side, dtype=np.float64) + 0.5) / SUPERSAMPLE
    return np.meshgrid(centres, centres)


def _pixel_mean(sub: np.ndarray, image_size: int) -> np.ndarray:
    """Average an (H*S, W*S) sub-pixel array over each pixel's S x S block."""
    return sub.reshape(image_size, SUPERSAMPLE, image_size, SUPERSAMPLE).mean(axis=(1, 3))


def _render(
    shape: int,
    texture: int,
    colour: int,
    image_size: int,
    rotation_deg: float,
    centre: tuple[float, float],
    phase: tuple[float, float],
    noise_rng: np.random.Generator,
    background: int,
    grid: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    theta = math.radians(rotation_deg)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    cx, cy = centre
    radius = SHAPE_RADIUS_FRACTION * image_size

    # Mask: draw the rotated polygons on the sub-pixel canvas. Image y points down, so
    # the shape's y axis is flipped. Sub-pixel (i, j) covers [j, j+1) x [i, i+1) on the
    # canvas, and its centre is the one used for the texture.
    side = image_size * SUPERSAMPLE
    canvas = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(canvas)
    for poly in _SHAPE_POLYGONS[SHAPES[shape]]:
        x = cx + radius * (cos_t * poly[:, 0] - sin_t * poly[:, 1])
        y = cy - radius * (sin_t * poly[:, 0] + cos_t * poly[:, 1])
        # Vertices in sub-pixel units, shifted so the centre of a sub-pixel is on its index.
        pts = np.stack([x * SUPERSAMPLE - 0.5, y * SUPERSAMPLE - 0.5], axis=1)
        draw.polygon([tuple(p) for p in pts.tolist()], fill=1)
    covered = np.asarray(canvas, dtype=np.float32)
    mask = _pixel_mean(covered, image_size) >= MASK_COVERAGE_THRESHOLD

    # Texture in the shape's frame (in periods), sampled at the sub-pixel centres.
    gx, gy = grid
    dx, dy = gx - cx, cy - gy
    period = TEXTURE_PERIOD_FRACTION * image_size
    a = (cos_t * dx + sin_t * dy) / period + phase[0]
    b = (-sin_t * dx + cos_t * dy) / period + phase[1]
    on = _TEXTURE_FNS[TEXTURES[texture]](a, b, noise_rng)
    on_fraction = _pixel_mean(on.astype(np.float32), image_size)

    rgb = np.asarray(COLOURS[colour][1], dtype=np.float32)
    off_rgb = np.asarray(shade_of(COLOURS[colour][1]), dtype=np.float32)
    pixels = off_rgb + on_fraction[..., None] * (rgb - off_rgb)
    image = np.full((image_size, image_size, NUM_CHANNELS), background, dtype=np.uint8)
    image[mask] = np.clip(np.rint(pixels[mask]), 0, UINT8_MAX).astype(np.uint8)
    return image, mask


def _factor_index(name: str, value: int | str, values: tuple[str, ...]) -> int:
    if isinstance(value, str):
        if value not in values:
            raise ValueError(f"{name} must be one of {values}, got {value!r}")
        return values.index(value)
    return _check_int(name, value, 0, len(values) - 1)


def render_trifeature(
    shape: int | str,
    texture: int | str,
    colour: int | str,
    image_size: int,
    rotation_deg: float = 0.0,
    centre: tuple[float, float] | None = None,
    *,
    phase: tuple[float, float] = (0.0, 0.0),
    noise_seed: int = 0,
    background: int = DEFAULT_BACKGROUND,
) -> tuple[np.ndarray, np.ndarray]:
    """Render one Trifeature image (Hermann & Lampinen, 2020) and its shape mask.

    Args:
        shape, texture, colour: index into, or name from, ``SHAPES``, ``TEXTURES`` and
            ``COLOURS``.
        image_size: side of the square image in pixels, in [MIN_IMAGE_SIZE, MAX_IMAGE_SIZE].
        rotation_deg: counter-clockwise rotation of the shape and its texture.
        centre: shape centre (x, y) in pixels; defaults to the image centre.
        phase: texture offset, in periods, along the shape's own axes.
        noise_seed: seed of the ``noise`` texture's random cells.
        background: grey value of every pixel outside the mask, in [0, 255].

    Returns:
        ``(image, mask)``: uint8 (H, W, 3) and bool (H, W).
    """
    s = _factor_index("shape", shape, SHAPES)
    t = _factor_index("texture", texture, TEXTURES)
    c = _factor_index("colour", colour, COLOUR_NAMES)
    size = _check_int("image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
    bg = _check_int("background", background, 0, UINT8_MAX)
    if centre is None:
        centre = (size / 2.0, size / 2.0)
    return _render(
        s,
        t,
        c,
        size,
        float(rotation_deg),
        (float(centre[0]), float(centre[1])),
        (float(phase[0]), float(phase[1])),
        np.random.default_rng(noise_seed),
        bg,
        _subpixel_grid(size),
    )


# =========================================================================== dataset


@dataclass(frozen=True)
class TrifeatureSplit:
    """A set of Trifeature images (Hermann & Lampinen, 2020; Robinson et al., 2021).

    Attributes:
        images: uint8 (N, H, W, 3).
        masks: bool (N, H, W). True on the shape's pixels, the "core" region carrying all
            three features. The background (False) is the uniform grey region.
        labels: int64 (N, 3). Columns follow ``FACTORS`` (shape, texture, colour), and
            each column holds indices into ``SHAPES``, ``TEXTURES`` and ``COLOURS``.
    """

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        _validate_arrays(self.images, self.masks, self.labels)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _validate_arrays(
    images: np.ndarray, masks: np.ndarray, labels: np.ndarray, where: str = ""
) -> None:
    """Raise ValueError unless the three arrays form a consistent split."""
    img_name = where + SPLIT_FILES["images"] if where else "images"
    mask_name = where + SPLIT_FILES["masks"] if where else "masks"
    label_name = where + SPLIT_FILES["labels"] if where else "labels"
    if images.dtype != np.uint8 or images.ndim != IMAGE_NDIM or images.shape[-1] != NUM_CHANNELS:
        raise ValueError(
            f"{img_name}: expected uint8 (N, H, W, 3), got {images.dtype} {images.shape}"
        )
    if masks.dtype != np.bool_ or masks.shape != images.shape[:MASK_NDIM]:
        raise ValueError(
            f"{mask_name}: expected bool {images.shape[:MASK_NDIM]}, "
            f"got {masks.dtype} {masks.shape}"
        )
    if labels.dtype != np.int64 or labels.shape != (images.shape[0], len(FACTORS)):
        raise ValueError(
            f"{label_name}: expected int64 ({images.shape[0]}, {len(FACTORS)}), "
            f"got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_VALUES):
        raise ValueError(
            f"{label_name}: values must be in [0, {NUM_VALUES - 1}], "
            f"got [{labels.min()}, {labels.max()}]"
        )


def _balanced_factor(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels in which each of the values occurs floor(n/10) or ceil(n/10) times."""
    full, remainder = divmod(n, NUM_VALUES)
    values = np.repeat(np.arange(NUM_VALUES, dtype=np.int64), full)
    extra = rng.choice(NUM_VALUES, size=remainder, replace=False).astype(np.int64)
    return rng.permutation(np.concatenate([values, extra]))


def generate_trifeature(
    n: int,
    image_size: int,
    seed: int,
    background: int = DEFAULT_BACKGROUND,
) -> TrifeatureSplit:
    """Generate ``n`` Trifeature images deterministically from ``seed``.

    This follows Hermann & Lampinen (2020), as used by Robinson et al. (2021, Sec. 2.2,
    App. C): one shape per image, filled with one texture in one colour, at a random
    rotation in [0, 360) and a random position that keeps the shape inside the image.

    Factor balance: each factor is an independently permuted, balanced label array, so when
    ``n`` is a multiple of 10 every value of every factor occurs exactly ``n // 10`` times.
    Otherwise the counts differ by at most one. The combinations of the three factors are
    random.

    All randomness comes from ``np.random.default_rng(seed)``, so the same arguments give
    identical arrays. Rotations, positions (as fractions of the image side) and texture
    phases are drawn the same way at every ``image_size``, so one seed gives the same scene
    at every resolution.

    Args:
        n: number of images, >= 1.
        image_size: image side in pixels, in [MIN_IMAGE_SIZE, MAX_IMAGE_SIZE] (paper: 128).
        seed: non-negative integer seed.
        background: grey value of the background, in [0, 255]. With the default (128) no
            shape pixel equals the background, so the mask can also be read off the image.
            With a light background (>= 153) some pixels of a white shape can equal it;
            the returned mask is still exact, because it comes from the geometry.

    Raises:
        ValueError: an argument is out of range; the message names the argument.
    """
    n = _check_int("n", n, 1)
    size = _check_int("image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
    seed = _check_int("seed", seed, 0)
    bg = _check_int("background", background, 0, UINT8_MAX)

    rng = np.random.default_rng(seed)
    labels = np.stack([_balanced_factor(n, rng) for _ in FACTORS], axis=1)
    rotations = rng.uniform(0.0, FULL_TURN_DEG, size=n)
    low = SHAPE_RADIUS_FRACTION + BORDER_MARGIN_FRACTION
    centres = rng.uniform(low, 1.0 - low, size=(n, 2)) * size
    phases = rng.uniform(0.0, 1.0, size=(n, 2))
    noise_seeds = rng.integers(0, np.iinfo(np.int64).max, size=n)

    grid = _subpixel_grid(size)
    images = np.empty((n, size, size, NUM_CHANNELS), dtype=np.uint8)
    masks = np.empty((n, size, size), dtype=bool)
    for i in range(n):
        s, t, c = (int(v) for v in labels[i])
        images[i], masks[i] = _render(
            s,
            t,
            c,
            size,
            float(rotations[i]),
            (float(centres[i, 0]), float(centres[i, 1])),
            (float(phases[i, 0]), float(phases[i, 1])),
            np.random.default_rng(int(noise_seeds[i])),
            bg,
            grid,
        )
    return TrifeatureSplit(images=images, masks=masks, labels=labels)


# =========================================================================== files


def write_split(split: TrifeatureSplit, out_dir: Path) -> None:
    """Write ``images.npy``, ``masks.npy`` and ``labels.npy`` into ``out_dir``.

    Each file is written atomically: to a temporary file in the same directory, then
    renamed. ``np.save`` output depends only on the arrays, so the same split always gives
    byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for field, filename in SPLIT_FILES.items():
        array = np.ascontiguousarray(getattr(split, field))
        with atomic_path(out_dir / filename) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)


def read_split(out_dir: Path) -> TrifeatureSplit:
    """Read a split written by :func:`write_split`.

    Raises:
        FileNotFoundError: a file is missing; the message names it.
        ValueError: a file is not a readable ``.npy`` array, or the arrays have the wrong
            dtype or shape, or do not match each other; the message names the file.
    """
    out_dir = Path(out_dir)
    arrays: dict[str, np.ndarray] = {}
    for field, filename in SPLIT_FILES.items():
        path = out_dir / filename
        if not path.is_file():
            raise FileNotFoundError(f"Trifeature split file missing: {path}")
        try:
            arrays[field] = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a readable .npy array ({exc})") from exc
    _validate_arrays(arrays["images"], arrays["masks"], arrays["labels"], where=f"{out_dir}/")
    return TrifeatureSplit(**arrays)
