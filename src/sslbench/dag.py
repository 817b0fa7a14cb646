"""Which jobs a config asks for: the DAG's enumeration as pure functions of the config dict.

workflow/rules/common.smk and report.smk call these with the path patterns they own (``{RUN}``,
``{SUPPRESSION}``, ...); nothing here imports Snakemake, so the enumeration is unit-tested on
small config dicts (tests/test_dag.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from sslbench.config import FINETUNE_PROTOCOLS

#: Each run's outputs the report reads; the notebooks get them keyed by stem (runs_json).
REPORT_FILES = (
    "qscore.json",
    "eval.json",
    "history.json",
    "scores.csv",
    "predictions.csv",
    "representation.json",
    "interpretability.json",
    "gradcam.png",
)


@dataclass(frozen=True)
class Paths:
    """Where a config's jobs write, as the rules' path patterns (Snakemake wildcards in braces).

    ``base``: one model's seed folder; ``run``: one trained model (protocol "pretrain" from
    scratch, regulariser "none" the baseline, or a fine-tuning protocol); ``suppression``: one
    encoder of 004's sweep; ``collapse``: one 002 job's result; ``meta``: a dataset's meta."""

    base: str
    run: str
    suppression: str
    collapse: str
    meta: str
    suppression_readout: str


def paths(config: Mapping[str, Any], root: str = "") -> Paths:
    """The path patterns of ``config``'s outputs, under ``root`` (a folder prefix, or none)."""
    prefix = f"{root.rstrip('/')}/" if root else ""
    results, data = f"{prefix}{config['results_dir']}", f"{prefix}{config['data_dir']}"
    base = f"{results}/{{dataset}}/{{method}}/seed{{seed}}"
    suppression = f"{results}/suppression/{{dataset}}/tau{{tau}}/{{regulariser}}/seed{{seed}}"
    return Paths(
        base=base,
        run=f"{base}/{{protocol}}-{{regulariser}}",
        suppression=suppression,
        collapse=f"{results}/collapse/{{setting}}/seed{{seed}}.json",
        meta=f"{data}/{{dataset}}/meta.json",
        suppression_readout=f"{suppression}/readout.json",
    )


class Run(TypedDict):
    """One trained model; its fields fill a ``{RUN}`` pattern."""

    dataset: str
    method: str
    seed: int
    protocol: str
    regulariser: str


class SuppressionJob(TypedDict):
    """One encoder of 004's sweep with the path of its readout."""

    dataset: str
    tau: float
    regulariser: str
    seed: int
    path: str


class CollapseJob(TypedDict):
    """One 002 controlled-experiment job with its output path."""

    setting: str
    seed: int
    path: str


def variants(config: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Each pretrained method's models as (protocol, regulariser), in DAG order.

    Every method gets its baseline (pretrain-none); ``scratch.runs`` adds models trained from
    scratch with a regulariser, each fine-tuning protocol's ``runs`` (001's ``finetune``, 000's
    ``finetune000``) fine-tunes of the baseline with a regulariser, and every fine-tuned method
    also gets the protocol's unregularised control.
    """
    found: dict[str, list[tuple[str, str]]] = {
        m: [("pretrain", "none")] for m in config["pretrain"]["methods"]
    }
    for reg, methods in config["scratch"]["runs"].items():
        for m in methods:
            found[m].append(("pretrain", reg))
    for protocol in FINETUNE_PROTOCOLS:
        for reg, methods in config[protocol]["runs"].items():
            for m in methods:
                found[m] += [v for v in ((protocol, "none"), (protocol, reg)) if v not in found[m]]
    return found


def runs(config: Mapping[str, Any]) -> list[Run]:
    """Every trained model of the DAG: dataset × method × seed × (protocol, regulariser)."""
    pre = config["pretrain"]
    per_method = variants(config)
    return [
        Run(dataset=d, method=m, seed=s, protocol=p, regulariser=r)
        for d in pre["datasets"]
        for m in pre["methods"]
        for s in pre["seeds"]
        for p, r in per_method[m]
    ]


def run_outputs(config: Mapping[str, Any], pattern: str) -> list[str]:
    """``pattern`` (a ``{RUN}``-style pattern) expanded over every run of the DAG."""
    return [pattern.format(**run) for run in runs(config)]


def suppression_jobs(config: Mapping[str, Any], pattern: str) -> list[SuppressionJob]:
    """Every encoder of 004's sweep: dataset × τ × regulariser × seed, ``pattern`` filled in
    (fields dataset, tau, regulariser, seed) as its ``path``."""
    sup = config["suppression"]
    return [
        SuppressionJob(
            dataset=d,
            tau=t,
            regulariser=r,
            seed=s,
            path=pattern.format(dataset=d, tau=t, regulariser=r, seed=s),
        )
        for d in sup["datasets"]
        for t in sup["temperatures"]
        for r in sup["regularisers"]
        for s in sup["seeds"]
    ]


def collapse_jobs(config: Mapping[str, Any], pattern: str) -> list[CollapseJob]:
    """Every 002 controlled-experiment job: setting × seed, ``pattern`` filled in (fields
    setting, seed) as its ``path``."""
    cfg = config["collapse"]
    return [
        CollapseJob(setting=name, seed=seed, path=pattern.format(setting=name, seed=seed))
        for name in cfg["settings"]
        for seed in cfg["seeds"]
    ]


def report_runs(
    config: Mapping[str, Any], run_pattern: str, files: Iterable[str], meta_pattern: str
) -> list[dict[str, str]]:
    """Per-run names and output paths: each of ``files`` under ``run_pattern`` keyed by its
    stem, plus the run's dataset ``meta`` (``meta_pattern`` with field dataset)."""
    files = tuple(files)
    return [
        {
            "name": "{dataset}/{method}/seed{seed}/{protocol}-{regulariser}".format(**run),
            "group": "{dataset}/{method}/seed{seed}".format(**run),
            "variant": "{protocol}-{regulariser}".format(**run),
        }
        | {name.split(".")[0]: f"{run_pattern}/{name}".format(**run) for name in files}
        | {"meta": meta_pattern.format(dataset=run["dataset"])}
        for run in runs(config)
    ]


def report_inputs(config: Mapping[str, Any], where: Paths) -> list[str]:
    """Everything the report reads: :data:`REPORT_FILES` of every run, every 002 job's and
    every 004 readout's output."""
    return [
        *(path for name in REPORT_FILES for path in run_outputs(config, f"{where.run}/{name}")),
        *(job["path"] for job in collapse_jobs(config, where.collapse)),
        *(job["path"] for job in suppression_jobs(config, where.suppression_readout)),
    ]
