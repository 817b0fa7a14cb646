"""Helpers shared by the stages: model (re)construction, the evaluation view, provenance and
publishing a result (written atomically with its provenance, logged to the job's MLflow run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import torch

from sslbench.data.augment import AugmentSpec, augment_spec
from sslbench.io import write_json
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
    saved = torch.load(path, weights_only=True, map_location="cpu")
    model = build_model(saved["params"])
    regulariser_from_params(saved["params"]).attach(model)
    model.load_state_dict(saved["state_dict"])
    return model, saved["params"]


def with_provenance(
    result: dict[str, Any], params: dict[str, Any], compute: Any | None = None
) -> dict[str, Any]:
    """``result`` with the job's provenance (machine, precision, versions, commit, hashes)."""
    return result | {"provenance": run_provenance_tags(params, compute)}


def publish_json(
    out: Path, result: dict[str, Any], params: dict[str, Any], compute: Any | None = None
) -> None:
    """Write a stage's ``result`` to ``out`` atomically with its provenance and log it as an
    artifact of the active MLflow run (inside :func:`sslbench.tracking.tracked_run`)."""
    write_json(out, with_provenance(result, params, compute))
    mlflow.log_artifact(str(out))
