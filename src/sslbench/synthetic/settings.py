"""Defaults of 002's controlled-experiment settings (documented in :mod:`sslbench.stages.collapse`).

Kept free of torch so that the config validator can resolve a setting's ``dim`` cheaply.
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
