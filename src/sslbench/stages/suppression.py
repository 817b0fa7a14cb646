"""Stage 8: feature suppression on Trifeature (004 §2.3, §4.1, Fig. 2, 3, 6) — for one SimCLR
encoder of the τ × IFM sweep, the linear readout accuracy of every factor (colour, shape,
texture; k-fold CV on frozen test-set h) and its plain InfoNCE loss on held-out views (the
loss 004 Fig. 2 correlates with readout error; for IFM encoders it is the loss without ε)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import torch

from sslbench.analysis.readout import ReadoutSpec, cross_validated_readout
from sslbench.data import sources
from sslbench.data.augment import ViewAugment, view_specs
from sslbench.device import CPU, Compute
from sslbench.features import extract_features
from sslbench.losses.infonce import info_nce
from sslbench.methods.base import SSLMethod
from sslbench.stages.common import evaluation_spec, load_model
from sslbench.tracking import publish_json, run_name, run_tags, tracked_run

log = logging.getLogger(__name__)


@torch.no_grad()
def held_out_infonce(
    model: SSLMethod,
    images: torch.Tensor,
    params: dict[str, Any],
    batch_size: int,
    seed: int,
    compute: Compute = CPU,
) -> float:
    """Mean plain InfoNCE (ℓ2-normalised, the encoder's τ) over batches of two augmented views of
    ``images``, in evaluation mode and with a fixed generator, as the training batches are."""
    model.eval().to(compute.device)
    augment = ViewAugment(view_specs(params["augment"]), images.shape[-1])
    generator = torch.Generator().manual_seed(seed)
    temperature = params["method_params"]["temperature"]
    losses = []
    for start in range(0, images.shape[0] - batch_size + 1, batch_size):
        batch = images[start : start + batch_size].to(compute.device)
        views = [augment(batch, v, generator) for v in range(2)]
        with compute.autocast():
            z0, z1 = (model.embedding(model.representation(v)) for v in views)
        losses.append(info_nce(z0.float(), z1.float(), temperature).item())
    return sum(losses) / len(losses)


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    model_path: Path,
    out: Path,
    compute: Compute = CPU,
) -> None:
    meta = sources.load_meta(dataset_dir)
    model, model_params = load_model(model_path)
    test = sources.load_split(dataset_dir, "test")
    h, _ = extract_features(
        model, test.images, evaluation_spec(model_params["augment"]), params["batch_size"], compute
    )
    spec = ReadoutSpec(**params["readout"])
    readout = {}
    for column, factor in enumerate(meta["factors"]):
        readout[factor] = cross_validated_readout(
            h.double().numpy(), test.labels[:, column].numpy(), spec, params["seed"]
        )
    loss = held_out_infonce(
        model,
        test.images,
        model_params,
        model_params["train"]["batch_size"],
        params["seed"],
        compute,
    )
    result = {
        "temperature": model_params["method_params"]["temperature"],
        "regulariser": model_params["regulariser"]["name"],
        "seed": params["seed"],
        "readout": readout,
        "infonce_loss": loss,
    }
    stage = "suppression_readout"
    with tracked_run(
        run_name(params, stage), run_tags(params, stage, meta["version"]), params, compute
    ):
        mlflow.log_metrics(
            {f"{factor}_readout": v["accuracy"] for factor, v in readout.items()}
            | {"heldout_infonce": loss}
        )
        publish_json(out, result, params, compute)
    log.info(
        "τ = %s, %s: %s; held-out InfoNCE %.4f",
        result["temperature"],
        result["regulariser"],
        ", ".join(f"{f} {v['accuracy']:.3f}" for f, v in readout.items()),
        loss,
    )
