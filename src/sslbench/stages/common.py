"""Helpers shared by the stages: model (re)construction and run tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sslbench.data.augment import AugmentSpec
from sslbench.methods import build_method
from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.regularisers import build_regulariser
from sslbench.regularisers.base import Regulariser
from sslbench.tracking import run_provenance_tags

NO_REGULARISER = {"name": "none", "params": {}}


def build_model(params: dict[str, Any]) -> SSLMethod:
    """Build the SSL model (backbone + method heads) described by a pretrain config block."""
    return build_method(
        params["method"],
        build_backbone(BackboneSpec(**params["backbone"])),
        params["method_params"],
    )


def augment_spec(params: dict[str, Any]) -> AugmentSpec:
    """AugmentSpec from one full ``augment`` block (YAML lists become tuples)."""
    return AugmentSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})


def view_specs(views: list[dict[str, Any]]) -> tuple[AugmentSpec, ...]:
    """One AugmentSpec per view entry of a run's ``augment`` list (see sslbench.recipes)."""
    return tuple(augment_spec(view) for view in views)


def evaluation_spec(views: list[dict[str, Any]]) -> AugmentSpec:
    """The normalisation of a model's inputs (mean/std are shared by all its views)."""
    return augment_spec(views[0])


def regulariser_from_params(
    params: dict[str, Any], discriminative: torch.Tensor | None = None
) -> Regulariser:
    """The run's regulariser (``params["regulariser"]``: name and config block; none if absent)."""
    reg = params.get("regulariser", NO_REGULARISER)
    return build_regulariser(reg["name"], reg["params"], discriminative)


def load_model(path: Path) -> tuple[SSLMethod, dict[str, Any]]:
    """Load a model saved by the pretrain or finetune stage (weights only, never pickled code).

    The regulariser is re-attached first, since InfoNCE variants replace the criterion (and
    its buffers); Q-Score's discriminative set only matters while training.
    """
    saved = torch.load(path, weights_only=True, map_location="cpu")
    model = build_model(saved["params"])
    regulariser_from_params(saved["params"], torch.zeros(0, dtype=torch.long)).attach(model)
    model.load_state_dict(saved["state_dict"])
    return model, saved["params"]


def run_tags(params: dict[str, Any], stage: str, data_version: str) -> dict[str, str]:
    """MLflow tags that identify a job of the DAG."""
    return {
        "stage": stage,
        "dataset": params["dataset"],
        "method": params["method"],
        "seed": str(params["seed"]),
        "variant": params["variant"],
        "data_version": data_version,
    }


def run_name(params: dict[str, Any], stage: str) -> str:
    """MLflow run name, the parts that tell runs apart first (the UI cuts long names):
    e.g. ``finetune-lasso qscore · simclr seed0 · trifeature``."""
    return (
        f"{params['variant']} {stage} · {params['method']} seed{params['seed']}"
        f" · {params['dataset']}"
    )


def with_provenance(
    result: dict[str, Any], params: dict[str, Any], compute: Any | None = None
) -> dict[str, Any]:
    """``result`` with the job's provenance (machine, precision, versions, commit, hashes)."""
    return result | {"provenance": run_provenance_tags(params, compute)}
