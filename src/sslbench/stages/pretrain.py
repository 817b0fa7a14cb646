"""Stage 2: self-supervised pretraining of one method (optionally with a regulariser, trained
from scratch as 003 SparseHead and 004 IFM do) on one dataset with one seed; the training run
itself is :func:`sslbench.training.fit.fit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sslbench.data import sources
from sslbench.device import CPU, Compute
from sslbench.stages.common import build_model, regulariser_from_params
from sslbench.training.fit import fit


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    model_out: Path,
    history_out: Path,
    compute: Compute = CPU,
    stage: str = "pretrain",
) -> None:
    """Pretrain one model; ``stage`` names the rule (and MLflow stage tag) that runs it."""
    torch.manual_seed(params["seed"])
    meta = sources.load_meta(dataset_dir)
    images = sources.load_split(dataset_dir, "train").images
    model = build_model(params)
    regulariser = regulariser_from_params(params)
    regulariser.attach(model)
    fit(
        stage,
        model,
        regulariser,
        images,
        params,
        meta["version"],
        model_out,
        history_out,
        compute,
    )


def run_suppression(
    params: dict[str, Any],
    dataset_dir: Path,
    model_out: Path,
    history_out: Path,
    compute: Compute = CPU,
) -> None:
    """An encoder of 004's feature-suppression sweep (rule ``suppression_pretrain``)."""
    run(params, dataset_dir, model_out, history_out, compute, stage="suppression_pretrain")
