"""Bad configs and --use-conda without conda stop before any job starts, with one clear message."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from workflow_runner import BASELINE_ONLY, RUN_DIR, copy_workflow, planned_rules, snakemake

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("guards"))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("threads=0", "config key threads: 0 is less than the minimum of 1"),
        ("pretrain={'methods': ['simclr', 'nope']}", "config key pretrain"),
        ("scratch={'runs': {'ifm': ['byol']}}", "config key scratch.runs.ifm.0: 'byol'"),
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(workdir, override, message):
    result = snakemake(workdir, "--config", override)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert planned_rules(result) == set()
    assert not (workdir / "data").exists() and not (workdir / RUN_DIR).exists()


def test_use_conda_without_conda_says_one_clear_sentence(workdir):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        p
        for p in env["PATH"].split(os.pathsep)
        if not ((Path(p) / "conda").exists() or (Path(p) / "mamba").exists())
    )
    result = snakemake(workdir, "--use-conda", env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "--use-conda needs conda" in output and "make run" in output
    assert "Traceback" not in output
    assert planned_rules(result) == set()
    assert not (workdir / "data").exists()


def test_a_config_key_given_twice_is_named_with_its_file(workdir):
    """Issue 22 fault 5: duplicate YAML keys were accepted silently (the last one won)."""
    (workdir / "config/twice.yaml").write_text("threads: 1\npretrain:\n  epochs: 1\nthreads: 2\n")
    result = snakemake(workdir, "-n", configfiles=(".test/config/test.yaml", "config/twice.yaml"))
    assert result.returncode != 0
    assert (
        f"config file {workdir / 'config/twice.yaml'}, line 4: key 'threads' is given twice "
        "(first on line 1)" in result.stderr
    )
    assert "Traceback" not in result.stderr and planned_rules(result) == set()


def test_a_temperature_in_exponent_form_is_planned(workdir):
    """Issue 22 fault 3: τ = 1e-5 became the folder tau1e-05, which the wildcard pattern
    rejected (MissingInputException in rule report_page)."""
    (workdir / "config/tiny_tau.yaml").write_text("suppression:\n  temperatures: [1.0e-5]\n")
    result = snakemake(
        workdir, "-n", configfiles=(".test/config/test.yaml", "config/tiny_tau.yaml")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "suppression/trifeature/tau1e-05/none/seed0/readout.json" in result.stdout


PROBE = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            'experiment = ""\ntracking_uri = ""', metadata={"tags": ["parameters"]}
        ),
        nbformat.v4.new_code_cell(
            "import json, pathlib\n"
            "pathlib.Path('probe.json').write_text(json.dumps([experiment, tracking_uri]))"
        ),
    ]
)


def test_a_number_like_experiment_reaches_the_report_as_its_name(workdir):
    """Issue 22 fault 4: ``tracking.experiment: "1e3"`` reached the report notebooks as 1000.0,
    so their provenance table was empty. The report rule's own notebook command (from a dry
    run) is executed on a probe notebook that records what it was given."""
    (workdir / "config/number_like.yaml").write_text('tracking:\n  experiment: "1e3"\n')
    files = (".test/config/test.yaml", "config/number_like.yaml")
    result = snakemake(workdir, "-n", "--printshellcmds", configfiles=files)
    assert result.returncode == 0, result.stderr[-3000:]
    command = re.search(
        r"-m sslbench\.report\.execute (workflow/notebooks/index\.ipynb .*?) &&", result.stdout
    )
    args = shlex.split(command.group(1))
    PROBE.metadata = nbformat.read(workdir / args[0], as_version=4).metadata  # its kernel
    nbformat.write(PROBE, workdir / "probe.ipynb")
    args[:2] = ["probe.ipynb", "probe.out.ipynb"]
    run = subprocess.run(
        [sys.executable, "-m", "sslbench.report.execute", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads((workdir / "probe.json").read_text()) == ["1e3", "sqlite:///mlflow.db"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("fault", ["dead server", "damaged store"])
def test_an_unusable_tracking_store_stops_the_run_before_any_job(tmp_path, fault):
    """Issue 22 faults 1 and 5: the store is checked when the run starts (Snakemake's onstart),
    and a dead server or a damaged mlflow.db stops it with one sentence naming it."""
    work = copy_workflow(tmp_path / "store")
    if fault == "dead server":
        uri = f"http://127.0.0.1:{_closed_port()}"
        (work / "config/store.yaml").write_text(f"tracking:\n  tracking_uri: {uri}\n")
        expected = f"sslbench: MLflow tracking server {uri} (config key tracking.tracking_uri)"
    else:
        (work / "config/store.yaml").write_text("{}\n")
        (work / "mlflow.db").write_bytes(b"not a database" * 100)
        expected = "sslbench: MLflow store mlflow.db is damaged or half-created"
    result = snakemake(work, configfiles=(*BASELINE_ONLY, "config/store.yaml"))
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert not (work / "data").exists() and not (work / RUN_DIR).exists()
