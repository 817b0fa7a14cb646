"""The per-stage command line: stage names match the Snakemake rules (and MLflow's stage tags),
and malformed ``--params`` end in one sentence naming the key, not a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sslbench import cli
from sslbench.cli import STAGES


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sslbench.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def _pretrain(tmp_path: Path, params: str) -> subprocess.CompletedProcess:
    return _cli(
        tmp_path,
        "pretrain",
        "--device",
        "cpu",
        "--params",
        params,
        "--dataset-dir",
        str(tmp_path / "data"),
        "--model-out",
        str(tmp_path / "model.pt"),
        "--history-out",
        str(tmp_path / "history.json"),
    )


@pytest.mark.slow  # a CLI process that imports torch
def test_a_missing_key_is_named_in_one_sentence(tmp_path):
    result = _pretrain(tmp_path, '{"method": "simclr"}')
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert "sslbench pretrain: --params lacks the key 'seed'" in line


@pytest.mark.slow  # two CLI processes that import torch
def test_params_that_are_not_a_json_object_are_refused(tmp_path):
    for bad in ("{not json", "[1, 2]"):
        result = _pretrain(tmp_path, bad)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert re.search(r"sslbench pretrain: --params (is not valid JSON|must be)", result.stderr)


def test_a_job_logs_its_start_up_apart_from_its_stage(tmp_path, monkeypatch, capsys):
    """Each job's log splits its time into start-up (imports, device) and the stage's own work,
    so the per-job overhead of a DAG of small jobs can be read from its logs."""

    def stage(params, out):
        time.sleep(0.3)

    monkeypatch.setattr(cli, "_stage_function", lambda name: stage)
    assert cli.main(["collapse", "--params", "{}", "--out", str(tmp_path / "x.json")]) == 0
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "start-up" in line]
    startup, seconds = re.search(
        r"collapse: start-up ([\d.]+) s .*, stage ([\d.]+) s", line
    ).groups()
    assert float(seconds) >= 0.3 and float(startup) >= 0.0


def test_stage_names_are_the_rule_names(repo):
    pattern = r"^(?:rule|use rule \w+ as) (\w+)(?::| with:)"
    rules = set(re.findall(pattern, _rule_text(repo), flags=re.MULTILINE))
    assert set(STAGES) <= rules
    assert {"qscore", "suppression_pretrain", "suppression_readout"} <= set(STAGES)


def _rule_text(repo: Path) -> str:
    return "\n".join(p.read_text() for p in sorted((repo / "workflow/rules").glob("*.smk")))


@pytest.mark.slow  # one Python process per stage, each importing torch
def test_stages_import_only_what_they_use():
    """Start-up bounds a DAG of small jobs (issue 19: ~8 s of a tiny analysis job's ~15 s on a
    GPU node went to imports): analysis-only stages never import the methods' lightly and
    torchvision, and network stages never import scikit-learn."""
    heavy = {
        "evaluate": ("torchvision", "lightly"),
        "analyse": ("torchvision", "lightly"),
        "representation": ("torchvision", "lightly"),
        "collapse": ("torchvision", "lightly"),
        "pretrain": ("sklearn",),
        "features": ("sklearn",),
        "finetune": ("sklearn",),
    }
    for module, absent in heavy.items():
        probe = f"import sys, sslbench.stages.{module}; print(*sorted(sys.modules))"
        loaded = set(subprocess.check_output([sys.executable, "-c", probe], text=True).split())
        assert not loaded & set(absent), f"sslbench.stages.{module} imports {loaded & set(absent)}"


def test_a_job_gives_its_threads_to_every_blas_pool_loaded_before_or_after():
    # OpenBLAS starts one spinning thread per core by default: two 1-thread jobs side by side
    # then ran ~10x slower on 2 cores; scikit-learn (SciPy's BLAS) is loaded after the limit
    code = (
        "import numpy\n"
        "from sslbench.cli import limit_threads\n"
        "limit_threads(1)\n"
        "import sklearn.linear_model, scipy.linalg, torch\n"
        "from threadpoolctl import threadpool_info\n"
        "pools = threadpool_info()\n"
        "assert pools and all(p['num_threads'] == 1 for p in pools), pools\n"
        "assert torch.get_num_threads() == 1\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
