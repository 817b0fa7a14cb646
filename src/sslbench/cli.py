"""Command line entry points called by the Snakemake rules (``python -m sslbench.cli STAGE``).

Every stage takes its config block as ``--params`` (JSON), its input and output paths and the
number of threads the job was given; it logs to stderr. The stages that run the network take
``--device`` and ``--mixed-precision`` too (config key ``compute``, see sslbench.device).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

STAGES: dict[str, tuple[str, ...]] = {
    "init-tracking": (),
    "prepare": ("out_dir",),
    "pretrain": ("dataset_dir", "model_out", "history_out"),
    "finetune": ("dataset_dir", "pretrained", "model_out", "history_out", "movement_out"),
    "features": ("dataset_dir", "model_path", "out"),
    "evaluate": ("dataset_dir", "features_path", "metrics_out", "predictions_out"),
    "collapse": ("out",),
    "analyse": ("dataset_dir", "features_path", "predictions_path", "summary_out", "scores_out"),
    "representation": ("dataset_dir", "features_path", "predictions_path", "out"),
    "suppression": ("dataset_dir", "model_path", "out"),
    "interpret": (
        "dataset_dir",
        "model_path",
        "features_path",
        "predictions_path",
        "summary_out",
        "figure_out",
    ),
}
COMPUTE_STAGES = ("pretrain", "finetune", "features", "suppression")


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
    return parser


def _configure_logging() -> None:
    """Log lines to stderr, which each rule redirects into its ``log:`` file."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )


def _stage_function(stage: str) -> Callable[..., None]:
    """The stage's ``run`` (imported lazily: torch is slow to import)."""
    module = "tracking" if stage == "init-tracking" else stage
    return importlib.import_module(f"sslbench.stages.{module}").run


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging()
    import torch

    torch.set_num_threads(args.threads)
    params = json.loads(args.params)
    paths = {name: getattr(args, name) for name in STAGES[args.stage]}
    try:
        if args.stage in COMPUTE_STAGES:
            from sslbench.device import select_compute

            paths["compute"] = select_compute(args.device, args.mixed_precision == "on")
            logging.getLogger("sslbench").info("computing on %s", paths["compute"].device)
        _stage_function(args.stage)(params, **paths)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        logging.getLogger("sslbench").error("%s failed: %s", args.stage, err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
