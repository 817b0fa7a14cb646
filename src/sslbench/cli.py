"""Command line entry points called by the Snakemake rules (``python -m sslbench.cli STAGE``).

Every stage takes its config block as ``--params`` (JSON), its input and output paths and the
number of threads the job was given; it logs to stderr. The stages that run the network or
train linear probes take ``--device`` and ``--mixed-precision`` too (config key ``compute``,
see sslbench.device; probes run in fp32 on the job's device).
Stage names are the Snakemake rules' names, which are also the ``stage`` tags of their MLflow
runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sslbench.jobserver import run_served

#: When this module was imported (Python itself starts in tens of milliseconds before it): the
#: start of a job's start-up, which each job logs beside its stage's own time (issue 19: on a GPU
#: node the tiny DAG's jobs took ~15 s each, whatever their work).
STARTED = time.perf_counter()
STAGES: dict[str, tuple[str, ...]] = {
    "prepare_dataset": ("out_dir",),
    "pretrain": ("dataset_dir", "model_out", "history_out"),
    "finetune": ("dataset_dir", "pretrained", "model_out", "history_out", "movement_out"),
    "features": ("dataset_dir", "model_path", "out"),
    "evaluate": ("dataset_dir", "features_path", "metrics_out", "predictions_out"),
    "collapse": ("out",),
    "qscore": ("dataset_dir", "features_path", "predictions_path", "summary_out", "scores_out"),
    "representation": ("dataset_dir", "features_path", "predictions_path", "out"),
    "suppression_pretrain": ("dataset_dir", "model_out", "history_out"),
    "suppression_readout": ("dataset_dir", "model_path", "out"),
    "interpret": (
        "dataset_dir",
        "model_path",
        "features_path",
        "predictions_path",
        "summary_out",
        "figure_out",
    ),
}
#: Stages that train linear probes on the job's device (in fp32: sslbench.device.probe_compute).
PROBE_STAGES = ("evaluate", "qscore", "representation")
COMPUTE_STAGES = (
    "pretrain",
    "finetune",
    "features",
    *PROBE_STAGES,
    "suppression_pretrain",
    "suppression_readout",
)
#: stage → (module of sslbench.stages, function) where the module is not named after the stage.
STAGE_FUNCTIONS = {
    "prepare_dataset": ("prepare", "run"),
    "qscore": ("analyse", "run"),
    "suppression_pretrain": ("pretrain", "run_suppression"),
    "suppression_readout": ("suppression", "run"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sslbench", description=__doc__)
    sub = parser.add_subparsers(dest="stage", required=True)
    for stage, paths in STAGES.items():
        p = sub.add_parser(stage)
        p.add_argument("--params", required=True, help="the stage's config block as JSON")
        p.add_argument("--threads", type=int, default=1, help="torch threads for this job")
        for name in paths:
            p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=Path, required=True)
        if stage in COMPUTE_STAGES:
            p.add_argument(
                "--device", default="auto", help="auto (a free GPU, else CPU), cpu, cuda"
            )
            p.add_argument(
                "--mixed-precision",
                choices=("on", "off"),
                default="on",
                help="bf16 autocast on CUDA (fp16 with loss scaling where bf16 is missing) "
                "and on CPUs with bf16 kernels; off: fp32",
            )
            p.add_argument(
                "--compile",
                choices=("on", "off"),
                default="off",
                help="torch.compile the backbone of a training job",
            )
            p.add_argument(
                "--jobs-per-gpu", type=int, default=1, help="network jobs sharing one GPU"
            )
    return parser


def _configure_logging() -> None:
    """Log lines to stderr, which each rule redirects into its ``log:`` file."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )


def _stage_function(stage: str) -> Callable[..., None]:
    """The stage's ``run`` (imported lazily: torch is slow to import)."""
    module, function = STAGE_FUNCTIONS.get(stage, (stage, "run"))
    return getattr(importlib.import_module(f"sslbench.stages.{module}"), function)


class BadParamsError(ValueError):
    """The ``--params`` of a stage are malformed or lack a key the stage reads."""


def _params(stage: str, text: str) -> dict:
    """``--params`` as a JSON object, or a one-sentence error naming what is wrong."""
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadParamsError(f"sslbench {stage}: --params is not valid JSON ({err})") from err
    if not isinstance(params, dict):
        raise BadParamsError(f"sslbench {stage}: --params must be a JSON object")
    return params


def _missing_key(stage: str, err: KeyError) -> str:
    return (
        f"sslbench {stage}: --params lacks the key {err.args[0]!r}, which this stage reads "
        "(the rule builds --params from config/config.yaml; see config/README.md)"
    )


#: What BLAS and OpenMP libraries read for their thread count when they are loaded.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Give the job's ``threads`` to torch and to every BLAS / OpenMP pool (numpy, SciPy,
    scikit-learn), loaded already or later. By default OpenBLAS starts one spinning thread per
    core in every job: two 1-thread readout jobs side by side took 115 s each instead of 10 s
    on 2 cores (measured 2026-11-27, docs/results/cpu_speed.md)."""
    import torch
    from threadpoolctl import threadpool_limits

    os.environ.update(dict.fromkeys(THREAD_ENV, str(threads)))
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)


def main(argv: list[str] | None = None, started: float = STARTED) -> int:
    """Run a stage (in a child of the job server when one is set, see sslbench.jobserver);
    ``started``: when the job's start-up began (the server's children pass their fork time)."""
    argv = sys.argv[1:] if argv is None else argv
    served = run_served(argv)
    if served is not None:
        return served
    args = _parser().parse_args(argv)
    _configure_logging()
    limit_threads(args.threads)
    paths = {name: getattr(args, name) for name in STAGES[args.stage]}
    try:
        params = _params(args.stage, args.params)
        if args.stage in COMPUTE_STAGES:
            from sslbench.device import probe_compute, select_compute

            paths["compute"] = select_compute(
                args.device,
                args.mixed_precision == "on",
                compile=args.compile == "on",
                jobs_per_gpu=args.jobs_per_gpu,
            )
            if args.stage in PROBE_STAGES:
                paths["compute"] = probe_compute(paths["compute"])
            logging.getLogger("sslbench").info("computing on %s", paths["compute"].device)
        stage = _stage_function(args.stage)
        ready = time.perf_counter()
        stage(params, **paths)
        logging.getLogger("sslbench").info(
            "%s: start-up %.1f s (imports, device), stage %.1f s",
            args.stage,
            ready - started,
            time.perf_counter() - ready,
        )
    except KeyError as err:
        logging.getLogger("sslbench").error("%s", _missing_key(args.stage, err))
        return 1
    except BadParamsError as err:
        logging.getLogger("sslbench").error("%s", err)
        return 1
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        logging.getLogger("sslbench").error("%s failed: %s", args.stage, err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
