"""The tiny DAG on a real single-node SLURM cluster, logging to one MLflow server over HTTP.

Debian's slurmctld, slurmd and munge (installed by ``make cluster``) are started for the
module with a generated slurm.conf; Snakemake submits every job with sbatch through
snakemake-executor-plugin-slurm and ``profiles/slurm``, and the jobs log to an ``mlflow
server`` on 127.0.0.1, as jobs on several nodes would. Needs root (daemons, /etc/slurm).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest
from workflow_runner import BASELINE_ONLY, REPO, RUN_DIR, copy_workflow

pytestmark = pytest.mark.cluster

SLURM_CONF = Path("/etc/slurm/slurm.conf")  # srun inside a job reads this path only
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")


def _wait_for(check, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slurm_conf(state: Path) -> str:
    """One node (this host, all its cores, 90 % of its memory) in one default partition."""
    host = socket.gethostname().split(".")[0]
    probe = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    memory = int(int(re.search(r"RealMemory=(\d+)", probe).group(1)) * 0.9)
    cpus = os.cpu_count()
    for sub in ("state", "spool", "log"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    return f"""ClusterName=sslbench-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
MinJobAge=300
StateSaveLocation={state}/state
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/log/slurmctld.log
SlurmdLogFile={state}/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _node_idle() -> bool:
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout
    return out.strip() == "idle"


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    missing = [name for name in DAEMONS if shutil.which(name) is None]
    if missing:
        pytest.fail(f"SLURM is not installed ({', '.join(missing)} missing): run `make cluster`")
    state = tmp_path_factory.mktemp("slurm")
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    # a site's own slurm.conf (file or link) is moved aside and put back afterwards
    backup = state / "site-slurm.conf"
    if SLURM_CONF.exists() or SLURM_CONF.is_symlink():
        shutil.move(SLURM_CONF, backup)
    SLURM_CONF.write_text(_slurm_conf(state))
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    subprocess.run(["runuser", "-u", "munge", "--", "munged", "--force"], check=True)
    subprocess.run(["slurmctld"], check=True)
    subprocess.run(["slurmd"], check=True)
    try:
        _wait_for(_node_idle, "the SLURM node", 60)
        yield state
    finally:
        subprocess.run(["scontrol", "shutdown"], capture_output=True)
        for pid in (state / "slurmd.pid", state / "slurmctld.pid", Path("/run/munge/munged.pid")):
            if pid.is_file():
                subprocess.run(["kill", pid.read_text().strip()], capture_output=True)
        # left behind, a conf naming a stopped controller makes every `scontrol` (which the
        # SLURM executor plugin calls whenever Snakemake starts) retry for seconds
        SLURM_CONF.unlink(missing_ok=True)
        if backup.exists() or backup.is_symlink():
            shutil.move(backup, SLURM_CONF)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{base / 'server.db'}",
            "--artifacts-destination",
            str(base / "artifacts"),
        ],
        stdout=(base / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        env=os.environ | {"MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    uri = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited: {(base / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        _wait_for(healthy, "mlflow server", 90)
        yield uri
    finally:
        server.terminate()
        server.wait(30)


def test_tiny_dag_runs_through_slurm_and_logs_to_the_mlflow_server(slurm, mlflow_server, tmp_path):
    work = copy_workflow(tmp_path / "work")
    shutil.copytree(REPO / "profiles", work / "profiles")
    target = RUN_DIR / "qscore.json"
    tracking = (
        f"tracking={{tracking_uri: {mlflow_server}, experiment: sslbench, "
        "artifact_root: mlartifacts}"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            str(target),
            "--profile",
            "profiles/slurm",
            "--jobs",
            "2",
            # this test cluster has no accounting database, so no sacct (see profiles/slurm)
            "--slurm-status-command",
            "squeue",
            "--slurm-init-seconds-before-status-checks",
            "2",
            "--slurm-keep-successful-logs",
            "--slurm-logdir",
            "slurm_logs",
            # the profile's per-rule sizes are for real clusters; this node has a few GB
            "--default-resources",
            "runtime=20",
            "mem_mb=2000",
            "--set-resources",
            "pretrain:mem_mb=2000",
            "features:mem_mb=2000",
            "--configfile",
            *BASELINE_ONLY,
            "--config",
            tracking,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1200,  # SIGKILL: a Snakemake waiting on a lost SLURM job would never exit
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert (work / target).is_file()
    # every job went through sbatch: SLURM wrote its log (slurm_logs/rule_<rule>/…/<jobid>.log)
    submitted = {p.name for p in (work / "slurm_logs").iterdir()}
    assert {"rule_pretrain", "rule_features", "rule_evaluate", "rule_qscore"} <= submitted

    client = mlflow.MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("sslbench")
    runs = client.search_runs([experiment.experiment_id])
    stages = sorted(run.data.tags["stage"] for run in runs)
    assert stages == ["evaluate", "pretrain", "qscore"]  # the rules' names
    assert all(run.info.status == "FINISHED" for run in runs)
    qscore = next(run for run in runs if run.data.tags["stage"] == "qscore")
    summary = json.loads((work / target).read_text())
    assert qscore.data.metrics["q_score_auroc"] == pytest.approx(
        summary["metrics"]["q_score"]["auroc"]
    )
