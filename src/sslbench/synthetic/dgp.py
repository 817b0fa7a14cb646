"""The data-generating process (DGP) of 002 §4.1, after Zimmermann et al. 2021 §5.1.

Latents ``z ∈ Z`` are split into content ``z^c`` (the first ``content_dims`` coordinates) and
style ``z^s`` (the rest). Anchors and negatives come from the marginal p(z), positives from the
conditional p(z̃|z) = δ(z̃^c − z^c) p(z̃^s|z^s) (002 §2, "Content-style partitioning"):

- hyperbox ``Z = [0, 1]^d``: p(z) uniform; p(z̃^s|z^s) a normal with mean z^s and standard
  deviation ``box_sigma`` per coordinate, truncated to [0, 1] by resampling the coordinates
  that fall outside (Zimmermann et al. resample out-of-box draws the same way);
- hypersphere ``Z = S^{d−1}``: p(z) uniform; the style part keeps its norm and its direction is
  drawn from a von Mises–Fisher distribution vMF(z^s/‖z^s‖, κ) on S^{d_s−1}:
  z̃^s = ‖z^s‖ · v. So z̃^c = z^c *exactly* and ‖z̃‖ = ‖z‖ = 1 without any renormalisation that
  would touch the content coordinates. (Neither 002 nor Zimmermann et al. say how the content
  part is held fixed on the sphere; this is the construction that keeps both constraints exact.)

Observations are ``x = g(z)`` with ``g`` an invertible MLP (002 §4.1: "3-layer MLP, d = 10",
Leaky ReLU between layers) or a single bias-free matrix (the linear DGP, 002 Assum. 1, d = 8).
Each layer's matrix has entries uniform in [−1, 1] and unit-norm columns, and is the
best-conditioned of ``candidates`` such draws (Zimmermann et al. keep only well-conditioned
draws, after Hyvärinen's PCL mixing). ``g`` is frozen; :meth:`InvertibleMLP.inverse` is exact
(float64).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Space = Literal["box", "sphere"]
SPACES: tuple[str, ...] = ("box", "sphere")

#: Leaky-ReLU slope between the layers of g (Zimmermann et al.'s mixing uses 0.2).
DEFAULT_MIXING_SLOPE = 0.2
#: Random matrices drawn per layer of g; the best-conditioned one is kept.
DEFAULT_CONDITION_CANDIDATES = 1000
#: Bounds of the hyperbox.
BOX_LOW, BOX_HIGH = 0.0, 1.0
#: Rounds of resampling before the truncated normal gives up (σ ≪ 1 needs one or two).
MAX_RESAMPLING_ROUNDS = 10_000
#: Norms below this count as zero when normalising the style part on the sphere.
NORM_FLOOR = 1e-12


@dataclass(frozen=True)
class LatentSpec:
    """Latent space and content/style conditional of 002 §4.1."""

    space: Space
    dim: int
    content_dims: int
    box_sigma: float = 0.05
    sphere_kappa: float = 1.0

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, got {self.space!r}")
        if self.dim < 1:
            raise ValueError(f"dim must be ≥ 1, got {self.dim}")
        if not 0 <= self.content_dims <= self.dim:
            raise ValueError(f"content_dims must lie in [0, {self.dim}], got {self.content_dims}")
        if self.box_sigma <= 0 or self.sphere_kappa <= 0:
            raise ValueError("box_sigma and sphere_kappa must be > 0")

    @property
    def style_dims(self) -> int:
        return self.dim - self.content_dims


def sample_marginal(spec: LatentSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` latents from the uniform marginal on the box or the sphere, shape (n, d)."""
    if spec.space == "box":
        return rng.uniform(BOX_LOW, BOX_HIGH, size=(n, spec.dim))
    gauss = rng.standard_normal((n, spec.dim))
    return gauss / np.linalg.norm(gauss, axis=1, keepdims=True)


def truncated_normal(
    mean: np.ndarray, sigma: float, rng: np.random.Generator, low: float, high: float
) -> np.ndarray:
    """Normal draws around ``mean`` restricted to [low, high] by resampling the outliers."""
    out = mean + sigma * rng.standard_normal(mean.shape)
    for _ in range(MAX_RESAMPLING_ROUNDS):
        bad = (out < low) | (out > high)
        if not bad.any():
            return out
        out[bad] = mean[bad] + sigma * rng.standard_normal(int(bad.sum()))
    raise RuntimeError("truncated normal: resampling did not converge (sigma too large?)")


def _wood_cosines(m: int, kappa: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Cosines w = ⟨v, μ⟩ of n vMF(μ, κ) draws on S^{m−1} ⊂ R^m, m ≥ 2 (Wood 1994)."""
    b = (m - 1) / (2 * kappa + np.sqrt(4 * kappa**2 + (m - 1) ** 2))
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + (m - 1) * np.log(1 - x0**2)
    w = np.empty(n)
    todo = np.arange(n)
    for _ in range(MAX_RESAMPLING_ROUNDS):
        if todo.size == 0:
            return w
        beta = rng.beta((m - 1) / 2, (m - 1) / 2, size=todo.size)
        cand = (1 - (1 + b) * beta) / (1 - (1 - b) * beta)
        log_u = np.log(rng.uniform(size=todo.size))
        accept = kappa * cand + (m - 1) * np.log(1 - x0 * cand) - c >= log_u
        w[todo[accept]] = cand[accept]
        todo = todo[~accept]
    raise RuntimeError("vMF: rejection sampling did not converge")


def sample_vmf(mu: np.ndarray, kappa: float, rng: np.random.Generator) -> np.ndarray:
    """One draw from vMF(μ_i, κ) per row of the unit vectors ``mu`` (n, m).

    m = 1 is the two-point sphere S^0 = {−1, 1}: P(v = μ) = e^κ / (e^κ + e^−κ).
    """
    n, m = mu.shape
    if m == 1:
        keep = rng.uniform(size=(n, 1)) < 1 / (1 + np.exp(-2 * kappa))
        return np.where(keep, mu, -mu)
    w = _wood_cosines(m, kappa, n, rng)[:, None]
    tangent = rng.standard_normal((n, m))
    tangent -= np.sum(tangent * mu, axis=1, keepdims=True) * mu
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), NORM_FLOOR)
    return w * mu + np.sqrt(np.clip(1 - w**2, 0.0, None)) * tangent


def sample_conditional(spec: LatentSpec, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positives z̃ ~ p(z̃|z): content copied, style drawn around z^s (see module docstring)."""
    c = spec.content_dims
    z_tilde = z.copy()
    if spec.style_dims == 0:
        return z_tilde
    style = z[:, c:]
    if spec.space == "box":
        z_tilde[:, c:] = truncated_normal(style, spec.box_sigma, rng, BOX_LOW, BOX_HIGH)
        return z_tilde
    radius = np.linalg.norm(style, axis=1, keepdims=True)
    direction = style / np.maximum(radius, NORM_FLOOR)
    z_tilde[:, c:] = radius * sample_vmf(direction, spec.sphere_kappa, rng)
    return z_tilde


def sample_pairs(
    spec: LatentSpec, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positive pairs (z, z̃): z from the marginal, z̃ from the conditional."""
    z = sample_marginal(spec, n, rng)
    return z, sample_conditional(spec, z, rng)


def well_conditioned_matrix(dim: int, candidates: int, rng: np.random.Generator) -> np.ndarray:
    """The best-conditioned of ``candidates`` matrices with U[−1, 1] entries, unit columns."""
    mats = rng.uniform(-1.0, 1.0, size=(candidates, dim, dim))
    mats /= np.linalg.norm(mats, axis=1, keepdims=True)
    return mats[int(np.argmin(np.linalg.cond(mats)))]


def leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    return np.where(x > 0, x, slope * x)


def leaky_relu_inverse(y: np.ndarray, slope: float) -> np.ndarray:
    return np.where(y > 0, y, y / slope)


@dataclass(frozen=True)
class InvertibleMLP:
    """g(z) = W_L σ(… σ(W_1 z)) with bias-free square W_l and Leaky ReLU σ (slope > 0).

    One layer is the linear DGP x = A z of 002 Assum. 1.
    """

    weights: tuple[np.ndarray, ...]
    slope: float = DEFAULT_MIXING_SLOPE

    def __post_init__(self) -> None:
        if not self.slope > 0:
            raise ValueError(
                f"the Leaky-ReLU slope must be > 0 for g to be invertible: {self.slope}"
            )

    @property
    def dim(self) -> int:
        return self.weights[0].shape[0]

    def forward(self, z: np.ndarray) -> np.ndarray:
        """x = g(z) for latents (n, d)."""
        h = np.asarray(z, dtype=np.float64)
        for i, w in enumerate(self.weights):
            h = h @ w.T
            if i < len(self.weights) - 1:
                h = leaky_relu(h, self.slope)
        return h

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """z = g⁻¹(x), exact up to float64 round-off."""
        h = np.asarray(x, dtype=np.float64)
        for i, w in reversed(list(enumerate(self.weights))):
            if i < len(self.weights) - 1:
                h = leaky_relu_inverse(h, self.slope)
            h = np.linalg.solve(w, h.T).T
        return h

    def matrix(self) -> np.ndarray:
        """The matrix A of a one-layer (linear) g."""
        if len(self.weights) != 1:
            raise ValueError("only a linear (one-layer) g is a matrix")
        return self.weights[0]


def build_mixing(
    dim: int,
    layers: int,
    rng: np.random.Generator,
    slope: float = DEFAULT_MIXING_SLOPE,
    candidates: int = DEFAULT_CONDITION_CANDIDATES,
) -> InvertibleMLP:
    """A frozen random invertible g with ``layers`` well-conditioned d × d matrices."""
    if layers < 1:
        raise ValueError(f"g needs ≥ 1 layer, got {layers}")
    weights = tuple(well_conditioned_matrix(dim, candidates, rng) for _ in range(layers))
    return InvertibleMLP(weights, slope)
