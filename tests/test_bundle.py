"""The offline bundle for GPU nodes (scripts/bundle.py, ``make bundle``): the resolution filter,
DVC's clean skip where dvc is absent, and a real bundle installed with ``--no-index`` into a
fresh venv that then plans the DAG."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from workflow_runner import copy_workflow, job_counts

from sslbench import dvc_cache

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import bundle  # noqa: E402

PYPI = "https://pypi.org/simple/pip/"
PYPI_PROBE_TIMEOUT_S = 10
INSTALL_TIMEOUT_S = 600
LOCAL_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
LINUX = bundle.Target("3.12", bundle.DEFAULT_PLATFORMS).marker_environment()


#: A workflow shell command's tool: ``"$SSLBENCH_PYTHON" -m module [subcommand]``.
TOOL_COMMAND = re.compile(r'"\$SSLBENCH_PYTHON" -m ([A-Za-z_.]+)((?: [a-z][A-Za-z_-]*)?)')
SYSTEM_PATH = "/usr/bin:/bin"  # no venv's or install's bin: tools must run as modules


def _workflow_tools() -> set[tuple[str, ...]]:
    """Every third-party ``python -m`` command of the workflow's rules, with its subcommand."""
    text = "\n".join(p.read_text() for p in (REPO / "workflow").rglob("*.smk"))
    return {
        (module, *sub.split())
        for module, sub in TOOL_COMMAND.findall(text)
        if not module.startswith("sslbench")
    }


def _item(name: str, *requires: str) -> dict:
    return {"metadata": {"name": name, "version": "1", "requires_dist": list(requires)}}


def test_provided_packages_and_their_closure_are_left_out():
    report = {
        "install": [
            _item("torch", "sympy>=1", "cuda-toolkit[cufft]==13; platform_system == 'Linux'"),
            _item("sympy", "mpmath"),
            _item("mpmath"),
            _item("cuda-toolkit", "nvidia-cufft; extra == 'cufft'", "nvidia-curand; extra == 'x'"),
            _item("nvidia-cufft"),
            _item("nvidia-curand"),
            _item("lightly", "torch", "aenum"),
            _item("aenum"),
            _item("win-only", "colorama; sys_platform == 'win32'"),
            _item("colorama"),
        ]
    }
    excluded = bundle.excluded_names(report, ["Torch"], LINUX)
    assert excluded == {"torch", "sympy", "mpmath", "cuda-toolkit", "nvidia-cufft"}
    assert bundle.kept_pins(report, excluded) == [
        "aenum==1",
        "colorama==1",
        "lightly==1",
        "nvidia-curand==1",
        "win-only==1",
    ]


def test_skinny_requirements_swap_mlflow_and_drop_the_tools(tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# pins\ntorch==2.14.1\nmlflow==3.17.2\ndvc==3.67.1\nPyYAML==6.0.3\n")
    pins = bundle.read_pins(reqs)
    assert bundle.bundle_requirements(pins, ["torch"], skinny=False) == [
        "mlflow==3.17.2",
        "dvc==3.67.1",
        "pyyaml==6.0.3",
    ]
    assert bundle.bundle_requirements(pins, ["torch", "pyyaml"], skinny=True) == [
        "mlflow-skinny==3.17.2",
        *bundle.SKINNY_SQLITE_STORE,
    ]


def test_dvc_step_skips_with_one_line_where_dvc_is_absent(tmp_path, monkeypatch, caplog):
    (tmp_path / ".dvc").mkdir()
    (tmp_path / dvc_cache.DVC_FILE).write_text("outs: []\n")
    monkeypatch.setattr(dvc_cache, "dvc_executable", lambda: None)
    with caplog.at_level("INFO", logger=dvc_cache.__name__):
        message = dvc_cache.cache_generated_data(tmp_path)
    assert "no dvc" in message
    assert [r.getMessage() for r in caplog.records] == [message]


def _pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen(PYPI, timeout=PYPI_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _provide(names: set[str], dest: Path) -> None:
    """Link this venv's installed ``names`` (the node's own packages) into ``dest``."""
    dest.mkdir()
    for name in names:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # not needed here (e.g. the CUDA wheels of a CPU torch)
        tops = {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if not (dest / top).exists():
                (dest / top).symlink_to(dist.locate_file(top))


def _left_out(manifest: Path) -> set[str]:
    line = next(x for x in manifest.read_text().splitlines() if x.startswith("left out"))
    return set(line.split(":", 1)[1].split())


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
    )


@pytest.mark.integration
def test_bundle_installs_offline_and_plans_the_dag(tmp_path):
    """Build a skinny bundle for this Python with torch, torchvision and numpy provided, install
    it with install.sh into a fresh venv that has only those (linked from this venv), then the
    venv opens a sqlite MLflow store and dry-runs the DAG."""
    if not _pypi_reachable():
        pytest.skip(f"PyPI unreachable ({PYPI}): the bundle cannot be built")
    out = tmp_path / "bundle"
    provided = ("torch", "torchvision", "numpy")
    target = bundle.Target(LOCAL_PYTHON, bundle.DEFAULT_PLATFORMS)
    bundle.build(out, target, provided, skinny=True)
    assert not {"dvc", "ruff", "pytest", "torch", "mlflow", "pulp"} & {
        w.name.split("-")[0].lower() for w in (out / "wheels").glob("*.whl")
    }

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
             tmp_path, dict(os.environ)).stdout.strip()
    )  # fmt: skip
    _provide(_left_out(out / "MANIFEST.txt"), tmp_path / "node")
    (site_packages / "node.pth").write_text(str(tmp_path / "node") + "\n")

    env = {**os.environ, "PYTHON": str(python), "PIP_CONSTRAINT": ""}
    env.pop("PYTHONPATH", None)
    site = tmp_path / "site"
    installed = _run(["bash", str(out / "install.sh"), str(site)], tmp_path, env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert "--scheduler greedy" in installed.stdout

    env["PYTHONPATH"] = f"{site}{os.pathsep}{REPO / 'src'}"
    store = _run(
        [str(python), "-c", "from pathlib import Path; from sslbench.tracking import init_store;"
         "import sslbench.stages.interpret, sslbench.methods.mocov2, sslbench.report.execute;"
         "import nbconvert;"
         "print(init_store('sqlite:///mlflow.db', 'bundle', Path('mlartifacts')))"],
        tmp_path, env,
    )  # fmt: skip
    assert store.returncode == 0, store.stderr[-3000:]
    # An install with --target puts console scripts where PATH does not look: every tool the
    # rules call must run as a module (`python -m jupyter nbconvert` looked for the
    # jupyter-nbconvert script and failed every report page on a GPU node).
    tools = _workflow_tools()
    assert ("nbconvert",) in tools
    for tool in tools:
        helped = _run([str(python), "-m", *tool, "--help"], tmp_path, env | {"PATH": SYSTEM_PATH})
        assert helped.returncode == 0, (tool, helped.stderr[-2000:])

    work = copy_workflow(tmp_path / "work")
    cmd = [
        str(python),
        "-m",
        "snakemake",
        "-n",
        "--cores",
        "1",
        "--configfile",
        ".test/config/test.yaml",
    ]
    planned = _run(cmd, work, env)
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert sum(job_counts(planned).values()) > 0
