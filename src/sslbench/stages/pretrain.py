"""Stage 2: self-supervised pretraining of one method on one dataset with one seed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mlflow
import torch

from sslbench.data import sources
from sslbench.io import atomic_path, write_json
from sslbench.stages.common import augment_spec, build_model, run_name, run_tags
from sslbench.tracking import config_hash, tracked_run
from sslbench.training.loop import TrainSpec, train
from sslbench.training.optim import OptimSpec

log = logging.getLogger(__name__)


def run(params: dict[str, Any], dataset_dir: Path, model_out: Path, history_out: Path) -> None:
    torch.manual_seed(params["seed"])
    meta = sources.load_meta(dataset_dir)
    images = sources.load_split(dataset_dir, "train").images
    model = build_model(params)
    cfg = params["train"]
    spec = TrainSpec(
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        seed=params["seed"],
        optimizer=OptimSpec(**cfg["optimizer"]),
        augment=augment_spec(params["augment"]),
        log_every_steps=cfg["log_every_steps"],
        keep_checkpoints=cfg["keep_checkpoints"],
    )
    log.info(
        "pretraining %s on %s (%d images), %d epochs",
        params["method"],
        params["dataset"],
        images.shape[0],
        spec.epochs,
    )
    with tracked_run(
        run_name(params, "pretrain"),
        run_tags(params, "pretrain", meta["version"]),
        params,
    ):
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
            model_out.parent / "checkpoints",
            on_epoch_end=log_epoch,
            fingerprint=config_hash(params),
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
    with atomic_path(model_out) as tmp:
        torch.save({"params": params, "state_dict": model.state_dict()}, tmp)
