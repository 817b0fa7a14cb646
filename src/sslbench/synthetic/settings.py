"""Settings of 002's controlled experiments: their keys, defaults and resolution.

Kept free of torch so that the config validator can resolve a setting's ``dim`` cheaply.

Setting keys (JSON-able). They are validated before any job starts, by the config schema
(``workflow/schemas/config.schema.yaml``, ``collapse.settings``: types, bounds, unknown keys,
even ``eval_samples``, ``normalise`` only on the sphere) and :mod:`sslbench.config`
(``content_dims`` ≤ ``dim``); :func:`resolve_params` only fills in the defaults:

=====================  =====  ==========================================================
key                    type   default / meaning
=====================  =====  ==========================================================
experiment             str    required: ``"linear"`` or ``"nonlinear"``
space                  str    required: ``"box"`` ([0,1]^d, ℓp InfoNCE) or ``"sphere"``
                              (S^{d−1}, cosine InfoNCE)
dim                    int    8 (linear) / 10 (nonlinear): latent = observation = output d
content_dims           int    1: d_c, the first d_c latents are content (0 ≤ d_c ≤ d)
tau_content            float  1.0: τ_c, temperature of the first d_c output dimensions
tau_style              float  1.0: τ_s, temperature of the other output dimensions
normalise              bool   true on the sphere (cosine), false on the box; false on the
                              sphere = raw dot product (002 §4.1, "remove the ℓ2
                              normalization"); the box only has the un-normalised ℓp loss
p                      float  2.0: exponent of the box similarity −Σ_j |a_j − b_j|^p / τ_j
box_sigma              float  0.3 (linear) / 0.05 (nonlinear): std of the style conditional
                              on the box. 0.05 is Zimmermann et al.'s value and reproduces
                              Table 1's f = g⁻¹ row; with it the linear box encoder does not
                              collapse in 2,000 steps (the positive is the nearest neighbour
                              in the batch, so scaling W drives the loss to 0 without
                              collapse), with 0.3 it does
sphere_kappa           float  1.0: vMF concentration of the style conditional on the sphere
mixing_layers          int    3: layers of the nonlinear g (002 §4.1); the linear g has one
mixing_slope           float  0.2: Leaky-ReLU slope of g
mixing_candidates      int    1000: random matrices per layer of g; the best-conditioned kept
encoder_layers         int    7: linear layers of the nonlinear f; the linear f has one
hidden_width           int    null → 5·d: width of the hidden layers of the nonlinear f
encoder_slope          float  0.2: Leaky-ReLU slope of f
steps                  int    2000: Adam steps
batch_size             int    256: positive pairs per step (2N views, 2N − 2 negatives)
lr                     float  0.01 (linear) / 0.003 (nonlinear): Adam learning rate
eval_samples           int    10000: views for the Table-1 loss terms (eval_samples/2 pairs;
                              every view has eval_samples − 1 others in its denominator)
readout_samples        int    10000: marginal samples for the adjusted-R² readouts
seed                   int    0: seeds g, the encoder init and all sampling
=====================  =====  ==========================================================
"""

from __future__ import annotations

from typing import Any

#: Defaults shared by both experiments.
DEFAULTS: dict[str, Any] = {
    "content_dims": 1,
    "tau_content": 1.0,
    "tau_style": 1.0,
    "p": 2.0,
    "sphere_kappa": 1.0,
    "mixing_layers": 3,
    "mixing_slope": 0.2,
    "mixing_candidates": 1000,
    "encoder_layers": 7,
    "hidden_width": None,
    "encoder_slope": 0.2,
    "steps": 2000,
    "batch_size": 256,
    "eval_samples": 10_000,
    "readout_samples": 10_000,
    "seed": 0,
}
#: Defaults that differ between the experiments.
EXPERIMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "linear": {"dim": 8, "lr": 1e-2, "box_sigma": 0.3},
    "nonlinear": {"dim": 10, "lr": 3e-3, "box_sigma": 0.05},
}

#: Keys stored as floats in the resolved params (and so in the output JSON) even when the config
#: writes an integer.
FLOAT_KEYS = (
    "tau_content",
    "tau_style",
    "box_sigma",
    "sphere_kappa",
    "mixing_slope",
    "encoder_slope",
    "lr",
    "p",
)


def resolve_params(params: dict[str, Any]) -> dict[str, Any]:
    """All keys of the module docstring with defaults filled in; ``params`` is one
    ``collapse.settings`` entry (plus ``seed``), already validated with the config."""
    cfg = {
        **DEFAULTS,
        **EXPERIMENT_DEFAULTS[params["experiment"]],
        "normalise": params["space"] == "sphere",
    }
    cfg.update(params)
    for key in FLOAT_KEYS:
        cfg[key] = float(cfg[key])
    return cfg
