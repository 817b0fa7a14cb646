"""Stage 2b: further-train a pretrained model at a low learning rate with a regulariser
(001 §"Q-Score Regularization": lr 1e-5, λ₁ = λ₂ = 1e-4, α and β the batch means); the "none"
control is the same fine-tune without a penalty, from the same checkpoint, for the same steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sslbench.data import sources
from sslbench.device import CPU, Compute
from sslbench.features import extract_features
from sslbench.stages.common import evaluation_spec, load_model, regulariser_from_params
from sslbench.training.fit import fit


def train_features(
    model: torch.nn.Module, images: torch.Tensor, params: dict[str, Any], compute: Compute = CPU
) -> torch.Tensor:
    """h of the pretrained encoder on the train set, in the evaluation view."""
    augment = evaluation_spec(params["augment"])
    h, _ = extract_features(model, images, augment, params["batch_size"], compute)
    return h


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    pretrained: Path,
    model_out: Path,
    history_out: Path,
    movement_out: Path,
    compute: Compute = CPU,
) -> None:
    torch.manual_seed(params["seed"])
    meta = sources.load_meta(dataset_dir)
    images = sources.load_split(dataset_dir, "train").images
    model, pretrain_params = load_model(pretrained)
    params = pretrain_params | params  # method, backbone and heads come from the checkpoint
    regulariser = regulariser_from_params(params)
    regulariser.prepare(lambda: train_features(model, images, params, compute))
    regulariser.attach(model)
    fit(
        "finetune",
        model,
        regulariser,
        images,
        params,
        meta["version"],
        model_out,
        history_out,
        compute,
        movement_out,
    )
