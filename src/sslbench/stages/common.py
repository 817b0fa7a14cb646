"""Helpers shared by the network stages: model (re)construction and the evaluation view.
(Publishing a result lives in :mod:`sslbench.tracking`, so analysis-only stages do not import
the methods, regularisers and torchvision just to write a JSON.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sslbench.data.augment import AugmentSpec, augment_spec
from sslbench.io import load_tensors
from sslbench.methods import build_method
from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.regularisers import build_regulariser
from sslbench.regularisers.base import Regulariser

NO_REGULARISER = {"name": "none", "params": {}}


def build_model(params: dict[str, Any]) -> SSLMethod:
    """Build the SSL model (backbone + method heads) described by a pretrain config block."""
    return build_method(
        params["method"],
        build_backbone(BackboneSpec(**params["backbone"])),
        params["method_params"],
    )


def evaluation_spec(views: list[dict[str, Any]]) -> AugmentSpec:
    """The normalisation of a model's inputs (mean/std are shared by all its views)."""
    return augment_spec(views[0])


def regulariser_from_params(params: dict[str, Any]) -> Regulariser:
    """The run's regulariser (``params["regulariser"]``: name and config block; none if absent)."""
    reg = params.get("regulariser", NO_REGULARISER)
    return build_regulariser(reg["name"], reg["params"])


def load_model(path: Path) -> tuple[SSLMethod, dict[str, Any]]:
    """Load a model saved by the pretrain or finetune stage (weights only, never pickled code).

    The regulariser is re-attached first, since InfoNCE variants replace the criterion (and
    its buffers); it is not prepared: Q-Score's discriminative set only matters while training.
    """
    saved = load_tensors(path, map_location="cpu")
    model = build_model(saved["params"])
    regulariser_from_params(saved["params"]).attach(model)
    model.load_state_dict(saved["state_dict"])
    return model, saved["params"]
