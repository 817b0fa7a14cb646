"""Stage 2b: further-train a pretrained model at a low learning rate with a regulariser
(001 §"Q-Score Regularization": lr 1e-5, λ₁ = λ₂ = 1e-4, α and β the batch means); the "none"
control is the same fine-tune without a penalty, from the same checkpoint, for the same steps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from sslbench.analysis.qscore import discriminative_from_config
from sslbench.data import sources
from sslbench.device import CPU, Compute
from sslbench.features import extract_features
from sslbench.stages.common import evaluation_spec, load_model, regulariser_from_params
from sslbench.training.fit import fit

log = logging.getLogger(__name__)


def discriminative_set(
    model: torch.nn.Module, images: torch.Tensor, params: dict[str, Any], compute: Compute = CPU
) -> torch.Tensor:
    """D of the pretrained encoder on the train set (001 eq. (1)), for Q-Score v2."""
    cfg = params["regulariser"]["params"]
    augment = evaluation_spec(params["augment"])
    h, _ = extract_features(model, images, augment, params["batch_size"], compute)
    _, d = discriminative_from_config(h.double().numpy(), cfg)
    log.info("discriminative features: %d of %d", len(d), h.shape[1])
    return torch.as_tensor(d, dtype=torch.long)


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
    reg = params["regulariser"]
    needs_d = reg["name"] == "qscore" and reg["params"]["version"] == "v2"
    regulariser = regulariser_from_params(
        params, discriminative_set(model, images, params, compute) if needs_d else None
    )
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
