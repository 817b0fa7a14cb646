"""The DAG's enumeration (sslbench.dag) on the shipped configs and on small config dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sslbench import dag
from sslbench.config import layered_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
TINY = "../.test/config/test.yaml"  # the integration tests' tiny config, beside the workflow
RUN = "results/{dataset}/{method}/seed{seed}/{protocol}-{regulariser}"
SUPPRESSION = "results/suppression/{dataset}/tau{tau}/{regulariser}/seed{seed}/readout.json"
COLLAPSE = "results/collapse/{setting}/seed{seed}.json"


def merged(*names: str) -> dict[str, Any]:
    """The config Snakemake sees for ``--configfile <names>`` (paths relative to config/)."""
    return layered_config(CONFIG_DIR / name for name in names)


def small(**blocks: Any) -> dict[str, Any]:
    """A minimal config: one dataset, method and seed, nothing fine-tuned, no sweep."""
    config: dict[str, Any] = {
        "pretrain": {"datasets": ["tri"], "methods": ["simclr"], "seeds": [0]},
        "scratch": {"runs": {}},
        "finetune": {"runs": {}},
        "finetune000": {"runs": {}},
        "suppression": {
            "datasets": ["tri"],
            "temperatures": [0.5],
            "regularisers": ["none"],
            "seeds": [0],
        },
        "collapse": {"settings": {"a": {}}, "seeds": [0]},
    }
    for name, block in blocks.items():
        config[name] = config[name] | block
    return config


def variants(config: dict[str, Any]) -> list[str]:
    return [f"{r['protocol']}-{r['regulariser']}" for r in dag.runs(config)]


# features count in `snakemake -n` (one features job per trained model) for each config.
@pytest.mark.parametrize(
    ("files", "models"),
    [
        (("config.yaml",), 6),
        (("config.yaml", TINY), 12),
        (("config.yaml", "all_methods.yaml"), 13),
    ],
)
def test_shipped_configs_enumerate_the_dry_runs_models(files, models):
    config = merged(*files)
    found = dag.runs(config)
    assert len(found) == models
    assert len({tuple(run.values()) for run in found}) == models  # no duplicates


def test_default_config_runs_are_the_baseline_and_both_protocols():
    assert variants(merged("config.yaml")) == [
        "pretrain-none",
        "finetune-none",
        "finetune-lasso",
        "finetune-qscore",
        "finetune000-none",
        "finetune000-qscore_v1",
    ]


def test_baseline_only_without_run_tables():
    assert dag.runs(small()) == [
        {
            "dataset": "tri",
            "method": "simclr",
            "seed": 0,
            "protocol": "pretrain",
            "regulariser": "none",
        }
    ]


def test_scratch_runs_add_regularised_pretraining_without_a_control():
    config = small(scratch={"runs": {"ifm": ["simclr"], "sparsehead": ["simclr"]}})
    assert variants(config) == ["pretrain-none", "pretrain-ifm", "pretrain-sparsehead"]


def test_each_protocol_adds_its_control_once_and_only_for_its_methods():
    config = small(
        pretrain={"methods": ["simclr", "byol"]},
        finetune={"runs": {"lasso": ["simclr"], "qscore": ["simclr", "byol"]}},
        finetune000={"runs": {"qscore_v1": ["byol"]}},
    )
    by_method = dag.variants(config)
    assert by_method["simclr"] == [
        ("pretrain", "none"),
        ("finetune", "none"),
        ("finetune", "lasso"),
        ("finetune", "qscore"),
    ]
    assert by_method["byol"] == [
        ("pretrain", "none"),
        ("finetune", "none"),
        ("finetune", "qscore"),
        ("finetune000", "none"),
        ("finetune000", "qscore_v1"),
    ]


def test_runs_are_dataset_major_then_method_seed_variant():
    config = small(
        pretrain={"datasets": ["a", "b"], "methods": ["m1", "m2"], "seeds": [0, 1]},
        scratch={"runs": {"ifm": ["m2"]}},
    )
    keys = [(r["dataset"], r["method"], r["seed"], r["regulariser"]) for r in dag.runs(config)]
    assert keys[:5] == [
        ("a", "m1", 0, "none"),
        ("a", "m1", 1, "none"),
        ("a", "m2", 0, "none"),
        ("a", "m2", 0, "ifm"),
        ("a", "m2", 1, "none"),
    ]
    assert len(keys) == 2 * (2 + 2 * 2)


def test_a_method_outside_pretrain_methods_fails_loudly():
    # The schema's cross-checks reject it first; the enumeration must not silently drop it.
    with pytest.raises(KeyError):
        dag.runs(small(scratch={"runs": {"ifm": ["byol"]}}))


def test_run_outputs_fill_the_pattern_per_run():
    config = small(finetune={"runs": {"lasso": ["simclr"]}})
    assert dag.run_outputs(config, RUN + "/eval.json") == [
        "results/tri/simclr/seed0/pretrain-none/eval.json",
        "results/tri/simclr/seed0/finetune-none/eval.json",
        "results/tri/simclr/seed0/finetune-lasso/eval.json",
    ]


def test_suppression_jobs_cover_the_sweep_and_write_tau_as_python_does():
    config = small(
        suppression={
            "datasets": ["tri"],
            "temperatures": [1e-05, 0.5],
            "regularisers": ["none", "ifm"],
            "seeds": [0, 1],
        }
    )
    jobs = dag.suppression_jobs(config, SUPPRESSION)
    assert len(jobs) == 2 * 2 * 2
    assert jobs[0] == {
        "dataset": "tri",
        "tau": 1e-05,
        "regulariser": "none",
        "seed": 0,
        "path": "results/suppression/tri/tau1e-05/none/seed0/readout.json",
    }
    assert [j["seed"] for j in jobs[:4]] == [0, 1, 0, 1]  # seed varies fastest
    assert jobs[-1]["path"] == "results/suppression/tri/tau0.5/ifm/seed1/readout.json"


def test_collapse_jobs_are_setting_by_seed():
    config = small(collapse={"settings": {"box": {"p": 2}, "sphere": {}}, "seeds": [0, 2]})
    assert dag.collapse_jobs(config, COLLAPSE) == [
        {"setting": "box", "seed": 0, "path": "results/collapse/box/seed0.json"},
        {"setting": "box", "seed": 2, "path": "results/collapse/box/seed2.json"},
        {"setting": "sphere", "seed": 0, "path": "results/collapse/sphere/seed0.json"},
        {"setting": "sphere", "seed": 2, "path": "results/collapse/sphere/seed2.json"},
    ]


def test_shipped_configs_sweep_and_collapse_counts_match_the_dry_runs():
    # suppression_readout and collapse job counts of `snakemake -n` for each config.
    for files, readouts, collapse in (
        (("config.yaml",), 12, 15),
        (("config.yaml", TINY), 4, 5),
    ):
        config = merged(*files)
        assert len(dag.suppression_jobs(config, SUPPRESSION)) == readouts
        assert len(dag.collapse_jobs(config, COLLAPSE)) == collapse


def test_report_runs_name_each_run_and_key_its_files_by_stem():
    config = small(finetune000={"runs": {"qscore_v1": ["simclr"]}})
    found = dag.report_runs(config, RUN, ("qscore.json", "gradcam.png"), "data/{dataset}/meta.json")
    assert [r["variant"] for r in found] == [
        "pretrain-none",
        "finetune000-none",
        "finetune000-qscore_v1",
    ]
    assert found[2] == {
        "name": "tri/simclr/seed0/finetune000-qscore_v1",
        "group": "tri/simclr/seed0",
        "variant": "finetune000-qscore_v1",
        "qscore": "results/tri/simclr/seed0/finetune000-qscore_v1/qscore.json",
        "gradcam": "results/tri/simclr/seed0/finetune000-qscore_v1/gradcam.png",
        "meta": "data/tri/meta.json",
    }


def test_report_inputs_are_every_runs_files_then_collapse_then_sweep():
    config = small(finetune={"runs": {"lasso": ["simclr"]}}) | {
        "results_dir": "results",
        "data_dir": "data",
    }
    inputs = dag.report_inputs(config, dag.paths(config))
    per_file = len(dag.REPORT_FILES)
    assert inputs[:3] == [
        f"results/tri/simclr/seed0/{variant}/{dag.REPORT_FILES[0]}"
        for variant in ("pretrain-none", "finetune-none", "finetune-lasso")
    ]
    assert len(inputs) == 3 * per_file + 2
    assert inputs[-2:] == [
        "results/collapse/a/seed0.json",
        "results/suppression/tri/tau0.5/none/seed0/readout.json",
    ]


def test_paths_put_every_pattern_under_the_root_and_the_configs_folders():
    config = small() | {"results_dir": "out", "data_dir": "d"}
    where = dag.paths(config, root="/pack/")
    assert where.run == "/pack/out/{dataset}/{method}/seed{seed}/{protocol}-{regulariser}"
    assert where.meta == "/pack/d/{dataset}/meta.json"
    assert where.suppression_readout.endswith("/seed{seed}/readout.json")
    assert dag.paths(config).collapse == "out/collapse/{setting}/seed{seed}.json"
