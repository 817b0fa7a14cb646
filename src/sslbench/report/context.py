"""Everything a report page needs, loaded once from the pipeline's outputs and the MLflow store
(the notebooks call :func:`load_context` with the parameters papermill injects)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sslbench.report.collapse import load_collapse
from sslbench.report.presentation import verdict_overview_html
from sslbench.report.provenance import mlflow_runs, runs_of
from sslbench.report.suppression import load_suppression
from sslbench.report.tables import RunResult, claims_table, load_claims, load_runs


@dataclass(frozen=True)
class ReportContext:
    runs: list[RunResult]
    collapse: dict[str, list[dict[str, Any]]]
    suppression: pd.DataFrame
    registry: dict[str, Any]
    claims: pd.DataFrame
    mlflow: pd.DataFrame
    smoke_test: bool = False  # the config's smoke_test: verdicts that decide nothing

    def overview_html(self, claims: pd.DataFrame) -> str:
        """The verdict overview of ``claims``, or nothing in a smoke test (its counts mean
        nothing; the page's banner says so)."""
        return "" if self.smoke_test else verdict_overview_html(claims)

    @property
    def baselines(self) -> list[RunResult]:
        return [run for run in self.runs if run.variant == "pretrain-none"]

    def paper_claims(self, papers: tuple[str, ...]) -> pd.DataFrame:
        return self.claims[self.claims["paper"].isin(papers)]

    def sources(self, stages: tuple[str, ...]) -> pd.DataFrame:
        """The MLflow runs (latest finished per job) of ``stages``."""
        return runs_of(self.mlflow, stages)


def config_dir(claims_path: str) -> Path:
    """The repository's config/ beside workflow/report/claims.yaml."""
    return Path(claims_path).resolve().parents[2] / "config"


def registry_claims(
    registry: dict[str, Any],
    claims_path: str | Path,
    runs: list[RunResult],
    collapse: dict[str, list[dict[str, Any]]],
    suppression: pd.DataFrame,
) -> pd.DataFrame:
    """The claims table of ``registry`` (read from ``claims_path``) over a run's outputs, with
    the registry's movement, learning and resolution blocks and the configs beside it."""
    return claims_table(
        registry["claims"],
        runs,
        collapse,
        suppression,
        registry["movement"],
        config_dir(str(claims_path)),
        registry.get("learning"),
        registry.get("resolution"),
    )


def load_context(
    runs_json: str,
    collapse_json: str,
    suppression_json: str,
    claims_path: str,
    tracking_uri: str,
    experiment: str,
) -> ReportContext:
    runs = load_runs(json.loads(runs_json))
    collapse = load_collapse(json.loads(collapse_json))
    suppression = load_suppression(json.loads(suppression_json))
    registry = load_claims(claims_path)
    return ReportContext(
        runs=runs,
        collapse=collapse,
        suppression=suppression,
        registry=registry,
        claims=registry_claims(registry, claims_path, runs, collapse, suppression),
        mlflow=mlflow_runs(tracking_uri, experiment),
    )
