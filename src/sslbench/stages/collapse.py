"""Stage: one job of 002's fully controlled experiments ("content suppresses style", §4.1).

Reads one ``collapse.settings`` entry (plus ``seed``), resolves it
(:func:`sslbench.synthetic.settings.resolve_params`, where the keys and defaults are documented),
runs :func:`sslbench.synthetic.experiment.run_experiment` (whose docstring describes the output
JSON) and writes the result with its provenance to ``out``. Every job (one seed, one setting)
writes its own JSON; seeds are aggregated downstream.

MLflow: run ``collapse:{experiment}/{space}/dc{d_c}/tc{τ_c}-ts{τ_s}/{norm|nonorm}/seed{seed}``,
tags ``stage=collapse`` plus the setting, params flattened, metrics ``{trained,inverse}_{align,
uniform,total}``, ``r2_{content,style}_{layer}``, ``final_train_loss``, ``seconds`` and, for the
linear experiment, ``weight_sv_{i}``, ``weight_effective_rank``, ``composition_effective_rank``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import mlflow

from sslbench.synthetic.experiment import run_experiment, scalar_metrics
from sslbench.synthetic.settings import resolve_params
from sslbench.tracking import publish_json, tracked_run

log = logging.getLogger(__name__)


def run_name(cfg: dict[str, Any]) -> str:
    """MLflow run name, the setting first (the UI cuts long names)."""
    norm = "norm" if cfg["normalise"] else "nonorm"
    return (
        f"{cfg['experiment']} {cfg['space']} dc{cfg['content_dims']}"
        f" tc{cfg['tau_content']:g} ts{cfg['tau_style']:g} {norm} seed{cfg['seed']} · collapse"
    )


def run_tags(cfg: dict[str, Any]) -> dict[str, str]:
    keys = ("experiment", "space", "content_dims", "tau_content", "tau_style", "normalise", "seed")
    return {"stage": "collapse", **{key: str(cfg[key]) for key in keys}}


def run(params: dict[str, Any], out: Path) -> None:
    """Resolve ``params``, train and measure, write the JSON to ``out`` atomically, log MLflow.

    Runs on the torch threads the caller set (``sslbench.cli --threads``; 1 in the workflow).
    """
    cfg = resolve_params(params)
    with tracked_run(run_name(cfg), run_tags(cfg), cfg):
        start = time.perf_counter()
        results = run_experiment(cfg)
        seconds = time.perf_counter() - start
        publish_json(out, results, cfg)
        mlflow.log_metrics({**scalar_metrics(results), "seconds": seconds})
        log.info("%s done in %.1f s", run_name(cfg), seconds)
