"""A real SQLite MLflow store: runs written by tracked_run are read back through the client,
with the provenance every number needs to explain itself."""

import mlflow
import torch

from sslbench.device import Compute
from sslbench.provenance import (
    CONFIG_HASH_ENV,
    OUTSIDE_WORKFLOW,
    PROVENANCE_KEYS,
    config_hash,
    job_hash,
    provenance,
)
from sslbench.tracking import flatten, init_store, tracked_run

BF16_CPU = Compute(torch.device("cpu"), torch.bfloat16, channels_last=True)
FP32_CPU = Compute(torch.device("cpu"), None, channels_last=True)


def test_tracked_run_is_read_back_with_its_provenance(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = init_store(uri, "unit", tmp_path / "artifacts")
    assert init_store(uri, "unit", tmp_path / "artifacts") == experiment_id  # idempotent
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "unit")
    monkeypatch.setenv(CONFIG_HASH_ENV, "whole-config")
    params = {"method": "simclr", "train": {"epochs": 3, "optimizer": {"lr": 0.4}}}
    with tracked_run("pretrain:x", {"stage": "pretrain", "data_version": "abc"}, params, BF16_CPU):
        mlflow.log_metric("train_loss", 1.5, step=1)
        mlflow.log_metric("train_loss", 1.2, step=2)
    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([experiment_id])
    tags = run.data.tags
    assert set(PROVENANCE_KEYS) <= set(tags)
    assert tags["stage"] == "pretrain"
    assert tags["data_version"] == "abc"
    assert (tags["device"], tags["precision"], tags["layout"]) == (
        "cpu",
        "bfloat16 autocast",
        "channels_last",
    )
    assert tags["config_hash"] == "whole-config"
    assert tags["job_hash"] == job_hash(params, BF16_CPU)
    assert tags["torch_version"] == torch.__version__
    assert len(tags["git_commit"]) == 40 or tags["git_commit"] == "unknown"
    assert tags["git_dirty"] in ("true", "false", "unknown")
    assert tags["cpu_model"] and tags["cpu_bf16_isa"]
    assert run.data.params["train.optimizer.lr"] == "0.4"
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.5), (2, 1.2)]


def test_job_hash_includes_the_compute_settings():
    """A checkpoint fingerprinted in fp32 must not resume under bf16 (and vice versa)."""
    params = {"method": "simclr", "seed": 0}
    assert job_hash(params, BF16_CPU) != job_hash(params, FP32_CPU)
    assert job_hash(params, BF16_CPU) == job_hash(dict(params), BF16_CPU)


def test_outside_the_workflow_the_config_hash_says_so(monkeypatch):
    monkeypatch.delenv(CONFIG_HASH_ENV, raising=False)
    assert provenance()["config_hash"] == OUTSIDE_WORKFLOW
    assert provenance()["layout"].startswith("n/a")


def test_flatten_and_hash_are_stable():
    a = {"b": 1, "a": {"c": [1, 2]}}
    assert flatten(a) == {"b": "1", "a.c": "[1, 2]"}
    assert config_hash(a) == config_hash({"a": {"c": [1, 2]}, "b": 1})
    assert config_hash(a) != config_hash({"b": 2, "a": {"c": [1, 2]}})
