"""Load the pipeline's per-run outputs and build the report's tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sslbench.io import read_json
from sslbench.report.verdicts import evaluate_claim


@dataclass(frozen=True)
class RunResult:
    """Everything the pipeline produced for one dataset × method × seed."""

    name: str
    summary: dict[str, Any]
    evaluation: dict[str, Any]
    history: list[dict[str, float]]
    scores: pd.DataFrame


def load_runs(runs: list[dict[str, str]]) -> list[RunResult]:
    """``runs``: one dict per run with keys name, qscore, eval, history, scores (paths)."""
    return [
        RunResult(
            name=r["name"],
            summary=read_json(r["qscore"]),
            evaluation=read_json(r["eval"]),
            history=read_json(r["history"]),
            scores=pd.read_csv(r["scores"]),
        )
        for r in runs
    ]


def load_claims(path: str | Path) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def claims_table(claims: list[dict[str, Any]], runs: list[RunResult]) -> pd.DataFrame:
    """One row per claim × run: the paper's number, ours, and the computed verdict."""
    rows = []
    for claim in claims:
        for run in runs:
            result = evaluate_claim(claim, run.summary)
            rows.append(
                {
                    "paper": claim["paper"],
                    "where": claim["where"],
                    "claim": claim["statement"],
                    "paper's value": claim["paper_value"],
                    "run": run.name,
                    "ours": round(result["ours"], 4),
                    "evidence": result["detail"],
                    "verdict": result["verdict"],
                }
            )
    return pd.DataFrame(rows)


def qscore_table(
    runs: list[RunResult], reference: dict[str, dict[str, dict[str, float]]]
) -> pd.DataFrame:
    """AUROC / AUPRC of every score for every run, next to the papers' numbers."""
    metrics = list(runs[0].summary["metrics"]) if runs else []
    table = pd.DataFrame(index=pd.Index(metrics, name="score"))
    for run in runs:
        for stat in ("auroc", "auprc"):
            table[f"{run.name} {stat.upper()}"] = [run.summary["metrics"][m][stat] for m in metrics]
    for source, values in reference.items():
        for stat in ("auroc", "auprc"):
            table[f"{source} {stat.upper()}"] = [values.get(m, {}).get(stat) for m in metrics]
    return table


def accuracy_table(runs: list[RunResult]) -> pd.DataFrame:
    """Linear-probe and k-NN accuracy, share correct, sparsity and final loss per run."""
    return pd.DataFrame(
        [
            {
                "run": run.name,
                "target": run.evaluation["target"],
                "linear probe accuracy": run.evaluation["linear_probe_accuracy"],
                "k-NN accuracy": run.evaluation["knn_accuracy"],
                "sparsity of h (%)": run.summary["sparsity_percent"],
                "|D| / dim": f"{run.summary['n_discriminative_features']}"
                f" / {run.summary['representation_dim']}",
                "final train loss": run.history[-1]["loss"],
            }
            for run in runs
        ]
    ).set_index("run")
