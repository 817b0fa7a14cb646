"""A real SQLite MLflow store: runs written by tracked_run are read back through the client."""

import mlflow

from sslbench.tracking import config_hash, flatten, init_store, tracked_run


def test_tracked_run_is_read_back(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = init_store(uri, "unit", tmp_path / "artifacts")
    assert init_store(uri, "unit", tmp_path / "artifacts") == experiment_id  # idempotent
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "unit")
    params = {"method": "simclr", "train": {"epochs": 3, "optimizer": {"lr": 0.4}}}
    with tracked_run("pretrain:x", {"stage": "pretrain", "data_version": "abc"}, params):
        mlflow.log_metric("train_loss", 1.5, step=1)
        mlflow.log_metric("train_loss", 1.2, step=2)
    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([experiment_id])
    assert run.data.tags["stage"] == "pretrain"
    assert run.data.tags["data_version"] == "abc"
    assert run.data.tags["config_hash"] == config_hash(params)
    assert len(run.data.tags["git_commit"]) in (7, 40) or run.data.tags["git_commit"] == "unknown"
    assert run.data.params["train.optimizer.lr"] == "0.4"
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.5), (2, 1.2)]


def test_flatten_and_hash_are_stable():
    a = {"b": 1, "a": {"c": [1, 2]}}
    assert flatten(a) == {"b": "1", "a.c": "[1, 2]"}
    assert config_hash(a) == config_hash({"a": {"c": [1, 2]}, "b": 1})
    assert config_hash(a) != config_hash({"b": 2, "a": {"c": [1, 2]}})
