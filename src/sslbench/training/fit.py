"""One tracked training run of a stage (pretrain, fine-tune, 004's sweep encoders): the
config's ``train`` block as a :class:`~sslbench.training.loop.TrainSpec`, the loop with its
regulariser, every epoch logged to MLflow, and the model, history and (for a fine-tune) how far
the backbone moved written; one trainer per checkpoint folder at a time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import torch

from sslbench.data.augment import view_specs
from sslbench.device import CPU, Compute
from sslbench.io import atomic_path, exclusive_lock, write_json
from sslbench.methods.base import SSLMethod
from sslbench.regularisers.base import Regulariser
from sslbench.tracking import run_name, run_provenance_tags, run_tags, tracked_run
from sslbench.training.loop import TrainSpec, train
from sslbench.training.movement import parameter_snapshot, relative_weight_change
from sslbench.training.optim import OptimSpec

log = logging.getLogger(__name__)

#: Held by the process training into a checkpoint folder: a second trainer refuses to start.
TRAINER_LOCK = ".trainer.lock"


def train_spec(params: dict[str, Any]) -> TrainSpec:
    """TrainSpec from a stage's ``train`` block, the run's seed and its augmentations."""
    cfg = params["train"]
    return TrainSpec(
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        seed=params["seed"],
        optimizer=OptimSpec(**cfg["optimizer"]),
        augment=view_specs(params["augment"]),
        log_every_steps=cfg["log_every_steps"],
        keep_checkpoints=cfg["keep_checkpoints"],
    )


def fit(
    stage: str,
    model: SSLMethod,
    regulariser: Regulariser,
    images: torch.Tensor,
    params: dict[str, Any],
    data_version: str,
    model_out: Path,
    history_out: Path,
    compute: Compute = CPU,
    movement_out: Path | None = None,
) -> None:
    """Train ``model`` with ``regulariser`` (attached) on ``compute``, log the run, save model
    and history; with ``movement_out`` (a fine-tune) also how far the backbone moved. Refuses
    to start while another process trains into the same folder."""
    _check_batch_size(params, images.shape[0])
    checkpoints = model_out.parent / "checkpoints"
    with exclusive_lock(checkpoints / TRAINER_LOCK, f"checkpoint folder {checkpoints}"):
        spec = train_spec(params)
        log.info(
            "%s %s + %s on %s (%d images), %d epochs",
            stage,
            params["method"],
            regulariser.name,
            params["dataset"],
            images.shape[0],
            spec.epochs,
        )
        tags = run_tags(params, stage, data_version) | {"regulariser": regulariser.name}
        provenance = run_provenance_tags(params, compute)
        with tracked_run(run_name(params, stage), tags, params, compute):
            start = parameter_snapshot(model.backbone) if movement_out else []
            logged: set[int] = set()

            def log_epoch(epoch: int, record: dict[str, float]) -> None:
                mlflow.log_metrics(
                    {
                        "train_loss": record["loss"],
                        "lr": record["lr"],
                        "epoch_seconds": record["seconds"],
                    },
                    step=epoch,
                )
                logged.add(epoch)

            history = train(
                model,
                images,
                spec,
                checkpoints,
                on_epoch_end=log_epoch,
                fingerprint=provenance["job_hash"],
                regulariser=regulariser,
                compute=compute,
            )
            for record in history:  # epochs restored from a checkpoint of an interrupted job
                if record["epoch"] not in logged:
                    log_epoch(record["epoch"], record)
            mlflow.log_metrics(
                {
                    "final_train_loss": history[-1]["loss"],
                    "train_seconds": sum(r["seconds"] for r in history),
                }
            )
            write_json(history_out, history)
            mlflow.log_artifact(str(history_out))
            if movement_out is not None:
                record_movement(model, start, movement_out)
        with atomic_path(model_out) as tmp:
            torch.save(
                {"params": params, "state_dict": model.state_dict(), "provenance": provenance}, tmp
            )


def record_movement(model: SSLMethod, start: list[torch.Tensor], out: Path) -> None:
    """Log and write how far a fine-tune moved the backbone from ``start`` (its checkpoint)."""
    movement = {"relative_weight_change": relative_weight_change(model.backbone, start)}
    log.info("backbone moved by %.3g of its norm", movement["relative_weight_change"])
    mlflow.log_metrics(movement)
    write_json(out, movement)


def _check_batch_size(params: dict[str, Any], n_images: int) -> None:
    """Name the config key whose batch size the training set cannot fill (the validator checks
    it where the config fixes ``n_train``; an ImageFolder or torchvision set is counted here)."""
    key = params["variant"].split("-")[0]  # the config block: pretrain, finetune000, …
    batch_size = params["train"]["batch_size"]
    if batch_size > n_images:
        raise ValueError(
            f"config key {key}.batch_size: {batch_size} exceeds the {n_images} training images "
            f"of dataset {params['dataset']!r}; use at most {n_images}"
        )
