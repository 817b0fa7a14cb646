"""One job of 002's fully controlled experiments ("content suppresses style", §4.1).

Rusak, Reizinger, Zimmermann et al. (``papers/002``) §4.1, Fig. 1 and Table 1: an encoder f is
trained with InfoNCE on x = g(z) (see :mod:`sslbench.synthetic`) and inspected against the
ground-truth latents.

- ``experiment="linear"`` (Fig. 1 left): linear g, bias-free linear f = W; outputs the
  normalised singular values of W (and of W A, A the mixing matrix) plus the loss terms;
- ``experiment="nonlinear"`` (Fig. 1 middle/right, Table 1): 3-layer Leaky-ReLU g, 7-layer MLP f;
  outputs the adjusted R² of a linear readout of content and style latents from every layer and
  L_align / L_uniform / L_CL (002 eq. (1)) of the trained f and of f = g⁻¹.

The setting keys and their defaults are documented in :mod:`sslbench.synthetic.settings`;
:func:`run_experiment` takes a setting resolved by
:func:`~sslbench.synthetic.settings.resolve_params` and does no I/O. The stage
:mod:`sslbench.stages.collapse` writes its result.

Result of :func:`run_experiment` (the stage's output JSON, sorted keys, identical bytes for
identical params):

- ``params``: the resolved params (every key of :mod:`sslbench.synthetic.settings`);
- ``train_history``: [[step, training loss], …] every 100 steps and at the last step;
- ``loss``: {``trained``, ``inverse``} → {``align``, ``uniform``, ``total``}, 002 Table 1's
  L_align, L_uniform, L_CL on ``eval_samples`` views; ``inverse`` is f = g⁻¹;
- ``readout``: ``layers`` (["input", "layer_1", …, "layer_L"]), ``content`` / ``style`` (mean
  adjusted R² over the content / style latents, one per layer; null when d_c = 0 / d_s = 0),
  ``content_per_dim`` / ``style_per_dim`` (per layer, per latent), and on the cosine sphere
  ``output_normalised`` {``content``, ``style``} (the ℓ2-normalised output);
- linear experiment only, ``spectrum``: ``weight`` / ``composition`` (normalised singular values
  of W and of h = W A, A the mixing matrix), ``weight_singular_values``,
  ``weight_effective_rank``, ``composition_effective_rank``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sslbench.losses.infonce import block_temperature
from sslbench.synthetic.dgp import InvertibleMLP, LatentSpec, build_mixing, sample_pairs
from sslbench.synthetic.dgp import sample_marginal as sample_latents
from sslbench.synthetic.encoders import Encoder, linear_encoder, mlp_encoder
from sslbench.synthetic.losses import Similarity, similarity_for
from sslbench.synthetic.metrics import (
    adjusted_r2,
    effective_rank,
    loss_terms,
    normalised_singular_values,
)
from sslbench.synthetic.train import TrainSpec, encode_pairs, observations, train_encoder


def latent_spec(cfg: dict[str, Any]) -> LatentSpec:
    return LatentSpec(
        cfg["space"], cfg["dim"], cfg["content_dims"], cfg["box_sigma"], cfg["sphere_kappa"]
    )


def build_similarity(cfg: dict[str, Any]) -> Similarity:
    """The InfoNCE similarity with τ_c on the first d_c output dimensions, τ_s on the rest."""
    tau = block_temperature(cfg["dim"], cfg["content_dims"], cfg["tau_content"], cfg["tau_style"])
    return Similarity(similarity_for(cfg["space"], cfg["normalise"]), tau, cfg["p"])


def build_encoder(cfg: dict[str, Any]) -> Encoder:
    if cfg["experiment"] == "linear":
        return linear_encoder(cfg["dim"])
    return mlp_encoder(cfg["dim"], cfg["encoder_layers"], cfg["hidden_width"], cfg["encoder_slope"])


def build_g(cfg: dict[str, Any], rng: np.random.Generator) -> InvertibleMLP:
    layers = 1 if cfg["experiment"] == "linear" else cfg["mixing_layers"]
    return build_mixing(cfg["dim"], layers, rng, cfg["mixing_slope"], cfg["mixing_candidates"])


def _readout_summary(per_layer: list[np.ndarray], dims: slice) -> dict[str, Any]:
    """Mean and per-latent adjusted R² of the latents ``dims`` per layer; None if there are none."""
    parts = [r[dims] for r in per_layer]
    if parts[0].size == 0:
        return {"mean": None, "per_dim": None}
    return {"mean": [float(p.mean()) for p in parts], "per_dim": [p.tolist() for p in parts]}


@torch.no_grad()
def layer_readouts(
    encoder: Encoder,
    mixing: InvertibleMLP,
    latents: LatentSpec,
    similarity: Similarity,
    z: np.ndarray,
) -> dict[str, Any]:
    """Adjusted R² of content and style latents from the input and every layer of f.

    With the cosine similarity the ℓ2-normalised output, on which the loss acts, is read out
    as well (``output_normalised``), outside the list of layers.
    """
    acts = encoder.activations(observations(mixing, z))
    per_layer = [adjusted_r2(a.double().numpy(), z) for a in acts]
    content, style = slice(0, latents.content_dims), slice(latents.content_dims, None)
    readout: dict[str, Any] = {"layers": ["input"] + [f"layer_{i}" for i in range(1, len(acts))]}
    for kind, dims in (("content", content), ("style", style)):
        summary = _readout_summary(per_layer, dims)
        readout[kind], readout[f"{kind}_per_dim"] = summary["mean"], summary["per_dim"]
    if similarity.kind == "cosine":
        normalised = [adjusted_r2(F.normalize(acts[-1], dim=1).double().numpy(), z)]
        readout["output_normalised"] = {
            kind: (_readout_summary(normalised, dims)["mean"] or [None])[0]
            for kind, dims in (("content", content), ("style", style))
        }
    return readout


@torch.no_grad()
def loss_comparison(
    encoder: Encoder,
    mixing: InvertibleMLP,
    similarity: Similarity,
    pairs: tuple[np.ndarray, np.ndarray],
) -> dict[str, dict[str, float]]:
    """002 Table 1: loss terms of the trained f and of f = g⁻¹ on the same pairs."""
    z, z_tilde = pairs
    inverse = [torch.from_numpy(mixing.inverse(mixing.forward(v))).float() for v in pairs]
    return {
        "trained": loss_terms(*encode_pairs(encoder, mixing, z, z_tilde), similarity).as_dict(),
        "inverse": loss_terms(*inverse, similarity).as_dict(),
    }


def spectrum(encoder: Encoder, mixing: InvertibleMLP) -> dict[str, Any]:
    """002 Fig. 1 left: normalised singular values of W and of the composition h = W A."""
    w = encoder.weight_matrix().double().numpy()
    composition = w @ mixing.matrix()
    return {
        "weight": normalised_singular_values(w).tolist(),
        "weight_singular_values": np.linalg.svd(w, compute_uv=False).tolist(),
        "weight_effective_rank": effective_rank(w),
        "composition": normalised_singular_values(composition).tolist(),
        "composition_effective_rank": effective_rank(composition),
    }


def run_experiment(cfg: dict[str, Any]) -> dict[str, Any]:
    """Train one encoder and measure it; ``cfg`` from
    :func:`~sslbench.synthetic.settings.resolve_params`. No I/O."""
    g_rng, train_rng, eval_rng, readout_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(cfg["seed"]).spawn(4)
    )
    torch.manual_seed(cfg["seed"])
    latents, similarity = latent_spec(cfg), build_similarity(cfg)
    mixing, encoder = build_g(cfg, g_rng), build_encoder(cfg)
    spec = TrainSpec(cfg["steps"], cfg["batch_size"], cfg["lr"])
    history = train_encoder(encoder, mixing, latents, similarity, spec, train_rng)
    pairs = sample_pairs(latents, cfg["eval_samples"] // 2, eval_rng)
    readout_z = sample_latents(latents, cfg["readout_samples"], readout_rng)
    results: dict[str, Any] = {
        "params": cfg,
        "train_history": [list(item) for item in history],
        "loss": loss_comparison(encoder, mixing, similarity, pairs),
        "readout": layer_readouts(encoder, mixing, latents, similarity, readout_z),
    }
    if cfg["experiment"] == "linear":
        results["spectrum"] = spectrum(encoder, mixing)
    return results


def scalar_metrics(results: dict[str, Any]) -> dict[str, float]:
    """The scalar results as MLflow metrics (null readouts left out)."""
    metrics = {"final_train_loss": results["train_history"][-1][1]}
    for which, terms in results["loss"].items():
        metrics.update({f"{which}_{name}": value for name, value in terms.items()})
    readout = results["readout"]
    for kind in ("content", "style"):
        for name, value in zip(readout["layers"], readout[kind] or [], strict=False):
            metrics[f"r2_{kind}_{name}"] = value
        normalised = readout.get("output_normalised", {}).get(kind)
        if normalised is not None:
            metrics[f"r2_{kind}_output_normalised"] = normalised
    if "spectrum" in results:
        spec = results["spectrum"]
        metrics["weight_effective_rank"] = spec["weight_effective_rank"]
        metrics["composition_effective_rank"] = spec["composition_effective_rank"]
        for i, value in enumerate(spec["weight"]):
            metrics[f"weight_sv_{i}"] = value
    return metrics
