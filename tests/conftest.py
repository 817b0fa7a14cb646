"""Shared fixtures: repository paths and small generated data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from workflow_runner import copy_workflow, snakemake

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def default_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture(scope="session")
def claims() -> list[dict]:
    """The claims of workflow/report/claims.yaml, checked against the claim-kind registry."""
    from sslbench.report.tables import load_claims

    return load_claims(REPO / "workflow" / "report" / "claims.yaml")["claims"]


@pytest.fixture(scope="session")
def schema_path() -> Path:
    return REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory) -> Path:
    """One real run of the DAG on .test/config/test.yaml, shared by the tests of its outputs."""
    work = copy_workflow(tmp_path_factory.mktemp("pipeline"))
    result = snakemake(work)
    assert result.returncode == 0, result.stderr[-5000:]
    return work


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: tiny models gain nothing from two, and two OpenMP threads stall for
    tens of milliseconds per op when another job shares the 2-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
