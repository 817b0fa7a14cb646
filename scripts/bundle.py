"""Build an offline wheel bundle for a GPU node without internet (``make bundle``).

The node has its own Python (e.g. 3.12) and its own torch, torchvision, numpy, …: those
("provided") must not travel, nor anything they depend on. The bundle is built on a machine
that reaches PyPI:

1. pins that have no wheel at all on PyPI (sdist only, e.g. grad-cam) are resolved for this
   machine's Python and built here with ``pip wheel --no-deps``; they must be pure Python;
2. ``pip install --dry-run --report`` resolves requirements.txt minus the provided pins for the
   target Python and platform tags (``--only-binary=:all:``);
3. the provided names and their whole dependency closure are taken out of that resolution;
4. ``pip download --no-deps`` fetches the rest into ``wheels/``.

``install.sh`` then installs ``wheels/*.whl`` with ``--no-index --no-deps`` into a ``--target``
folder: pip never looks at the provided packages, so their versions on the node (numpy 2.5 where
we pin 2.4.6) are not touched. The project itself runs from the repository (``PYTHONPATH=src``).

``--skinny`` is the lean profile for a node whose upload is small: mlflow becomes mlflow-skinny of
the same version plus what a ``sqlite:///`` store needs (SQLAlchemy, Alembic), and the tools the
DAG does not run on a node (dvc, ruff, snakefmt, pytest, the SLURM executor plugins) are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
#: glibc 2.17 (manylinux2014) up to 2.28 (manylinux_2_28, what torch wheels need).
MANYLINUX_GLIBC_MINORS = range(17, 29)
DEFAULT_PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in reversed(MANYLINUX_GLIBC_MINORS)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
)
DEFAULT_PROVIDED = ("torch", "torchvision", "numpy")
#: Left out by --skinny: development tools and what only the login node / CI runs.
SKINNY_LEFT_OUT = (
    "dvc",
    "ruff",
    "snakefmt",
    "pytest",
    "snakemake-executor-plugin-slurm",
    "snakemake-executor-plugin-slurm-jobstep",
)
#: Dependencies that --skinny also leaves out, optional where they are used: pulp (16 MB) serves
#: only Snakemake's ILP scheduler (``--scheduler greedy`` needs nothing); ipykernel runs without
#: debugpy (5 MB, its debugger) and IPython without jedi and its parso (5 MB, tab completion).
SKINNY_UNUSED_DEPS = ("pulp", "debugpy", "jedi", "parso")
#: What mlflow (full) adds over mlflow-skinny that a ``sqlite:///`` store needs; the bounds are
#: mlflow 3.17.2's own (its METADATA).
SKINNY_SQLITE_STORE = ("sqlalchemy>=1.4.0,<3", "alembic!=1.10.0,<2")
#: The machine-wide pip constraint file caps torch at the releases on this machine's disk; it
#: does not apply to the node's Python, so the bundle's pip calls run without it.
PIP_ENV = {**os.environ, "PIP_CONSTRAINT": ""}
BYTES_PER_MIB = 1024 * 1024
PURE_PYTHON_TAG = "-none-any.whl"


@dataclass(frozen=True)
class Target:
    """The node's interpreter: Python version ("3.12") and the platform tags it accepts."""

    python: str
    platforms: tuple[str, ...]

    def pip_args(self) -> list[str]:
        """pip options that resolve for this target instead of the running interpreter."""
        abi = "cp" + self.python.replace(".", "")
        args = ["--python-version", self.python, "--implementation", "cp", "--abi", abi]
        for platform in self.platforms:
            args += ["--platform", platform]
        return [*args, "--only-binary=:all:"]

    def marker_environment(self) -> dict[str, str]:
        """Environment markers of the node (Linux, x86_64, CPython ``python``)."""
        env = default_environment()
        env |= {
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": "x86_64",
            "os_name": "posix",
        }
        return env


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file → {canonical name: version}."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = str(req.specifier).removeprefix("==")
    return pins


def bundle_requirements(
    pins: Mapping[str, str], provided: Iterable[str], skinny: bool
) -> list[str]:
    """Requirement lines to resolve: the pins minus the provided ones (and, when ``skinny``,
    minus the node-irrelevant tools, with mlflow → mlflow-skinny + its sqlite store needs)."""
    left_out = {canonicalize_name(name) for name in provided}
    if skinny:
        left_out |= {canonicalize_name(name) for name in SKINNY_LEFT_OUT}
    lines = [f"{name}=={version}" for name, version in pins.items() if name not in left_out]
    if skinny and "mlflow" in pins and "mlflow" not in left_out:
        lines.remove(f"mlflow=={pins['mlflow']}")
        lines += [f"mlflow-skinny=={pins['mlflow']}", *SKINNY_SQLITE_STORE]
    return lines


def pip(*args: str) -> None:
    """Run this interpreter's pip (quietly; its errors go to stderr) and fail loudly."""
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True, env=PIP_ENV)


def resolve(requirements: list[str], pip_args: list[str], workdir: Path) -> dict:
    """pip's dry-run resolution report (JSON) of ``requirements`` under ``pip_args``."""
    req_file = workdir / "requirements.txt"
    req_file.write_text("\n".join(requirements) + "\n")
    report = workdir / "report.json"
    pip(
        "install", "--dry-run", "--ignore-installed", "--report", str(report),
        "--target", str(workdir / "target"), *pip_args, "-r", str(req_file),
    )  # fmt: skip
    return json.loads(report.read_text())


def build_sdist_only_wheels(requirements: list[str], dest: Path, workdir: Path) -> None:
    """Build a wheel here for every package that this machine's resolution takes from an sdist
    (no wheel on the index); raise if one is not pure Python, since it would not fit the node."""
    report = resolve(requirements, ["--prefer-binary"], workdir)
    built = workdir / "built"
    for item in report["install"]:
        if item["download_info"]["url"].endswith(".whl"):
            continue
        pin = f"{item['metadata']['name']}=={item['metadata']['version']}"
        pip("wheel", "--no-deps", "--wheel-dir", str(built), pin)
        for wheel in built.glob("*.whl"):
            if not wheel.name.endswith(PURE_PYTHON_TAG):
                raise SystemExit(f"{pin} has no wheel on the index and is not pure Python")
            wheel.rename(dest / wheel.name)


def excluded_names(report: Mapping, provided: Iterable[str], env: Mapping[str, str]) -> set[str]:
    """The provided names and everything they depend on for ``env`` within the resolution,
    following the extras that each dependency line asks for (torch → cuda-toolkit[cufft, …])."""
    requires = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"].get("requires_dist", [])
        for item in report["install"]
    }
    seen: set[tuple[str, str]] = set()
    pending = [(canonicalize_name(name), "") for name in provided]
    while pending:
        name, extra = pending.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for line in requires.get(name, []):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({**env, "extra": extra}):
                dep = canonicalize_name(req.name)
                pending += [(dep, ""), *((dep, dep_extra) for dep_extra in req.extras)]
    return {name for name, _ in seen}


def kept_pins(report: Mapping, excluded: set[str]) -> list[str]:
    """``name==version`` of every resolved package that is not excluded."""
    pins = []
    for item in report["install"]:
        meta = item["metadata"]
        if canonicalize_name(meta["name"]) not in excluded:
            pins.append(f"{meta['name']}=={meta['version']}")
    return sorted(pins, key=str.lower)


def install_script(target: Target, provided: Iterable[str]) -> str:
    """``install.sh``: check the node's Python and provided packages, then install
    ``wheels/*.whl`` offline (no index, no dependency resolution) into a target folder."""
    provided_list = " ".join(sorted(provided))
    return f"""#!/usr/bin/env bash
# Offline install of this sslbench bundle (made by `make bundle`, scripts/bundle.py).
# Usage: bash install.sh [TARGET_DIR]   (default: <bundle>/site; PYTHON=... picks the python)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${{1:-$here/site}}
python=${{PYTHON:-python3}}
"$python" - <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

want = "{target.python}"
have = f"{{sys.version_info[0]}}.{{sys.version_info[1]}}"
if have != want:
    sys.exit(f"this bundle is for Python {{want}}, {{sys.executable}} is {{have}}")
missing = []
for name in "{provided_list}".split():
    try:
        print(f"provided by the node: {{name}} {{version(name)}}")
    except PackageNotFoundError:
        missing.append(name)
if missing:
    sys.exit(f"not installed for {{sys.executable}} (the bundle leaves them out): {{missing}}")
EOF
"$python" -m pip install --no-index --no-deps --disable-pip-version-check --quiet \\
  --target "$target" "$here"/wheels/*.whl
if [ -f "$here/data.tar.gz" ]; then
  echo "data: tar -xzf $here/data.tar.gz -C <data folder> (not unpacked automatically)"
fi
echo "Installed into $target. From the repository root:"
echo "  export PYTHONPATH=$target:src JUPYTER_PATH=$target/share/jupyter"
echo "  $python -m snakemake --cores all ..."
echo "(JUPYTER_PATH: the report's nbconvert finds its HTML templates there)"
echo "pulp (Snakemake's ILP scheduler) may be missing: add --scheduler greedy if it complains."
"""


def write_manifest(out: Path, target: Target, provided: Iterable[str], excluded: set[str]) -> int:
    """``MANIFEST.txt``: the target, what the node provides, and each file with its size;
    returns the total size in bytes."""
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "MANIFEST.txt")
    total = sum(p.stat().st_size for p in files)
    lines = [
        f"python {target.python}; platforms {' '.join(target.platforms)}",
        f"provided by the node: {' '.join(sorted(provided))}",
        f"left out (provided, their dependencies, --skinny): {' '.join(sorted(excluded))}",
        *(f"{p.stat().st_size:>12}  {p.relative_to(out)}" for p in files),
        f"{total:>12}  total ({total / BYTES_PER_MIB:.1f} MiB)",
    ]
    (out / "MANIFEST.txt").write_text("\n".join(lines) + "\n")
    return total


def build(
    out: Path,
    target: Target,
    provided: tuple[str, ...],
    skinny: bool,
    data: Path | None = None,
    requirements: Path = REPO / "requirements.txt",
) -> int:
    """Write the bundle into ``out`` (wheels/, install.sh, MANIFEST.txt, data.tar.gz when
    ``data`` is given); returns its total size in bytes."""
    wheels = out / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    lines = bundle_requirements(read_pins(requirements), provided, skinny)
    with tempfile.TemporaryDirectory() as tmp:
        local_dir, target_dir = Path(tmp, "local"), Path(tmp, "target")
        local_dir.mkdir()
        target_dir.mkdir()
        build_sdist_only_wheels(lines, wheels, local_dir)
        report = resolve(lines, ["--find-links", str(wheels), *target.pip_args()], target_dir)
    excluded = excluded_names(report, provided, target.marker_environment())
    if skinny:
        excluded |= set(SKINNY_UNUSED_DEPS)
    pins = kept_pins(report, excluded)
    pip("download", "--no-deps", "--dest", str(wheels), "--find-links", str(wheels),
        *target.pip_args(), *pins)  # fmt: skip
    script = out / "install.sh"
    script.write_text(install_script(target, provided))
    script.chmod(0o755)
    if data is not None:
        with tarfile.open(out / "data.tar.gz", "w:gz") as tar:
            tar.add(data, arcname=data.name)
    return write_manifest(out, target, provided, excluded)


def main(argv: list[str] | None = None) -> None:
    """Command line of ``make bundle``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="target Python version, e.g. 3.12")
    parser.add_argument("--platform", nargs="*", default=[], help="pip platform tags")
    parser.add_argument("--provided", nargs="*", default=list(DEFAULT_PROVIDED))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, help="a folder to pack as data.tar.gz")
    parser.add_argument("--skinny", action="store_true", help="lean GPU-node profile")
    args = parser.parse_args(argv)
    target = Target(args.python, tuple(args.platform) or DEFAULT_PLATFORMS)
    total = build(args.out, target, tuple(args.provided), args.skinny, args.data)
    print(f"bundle: {args.out} ({total / BYTES_PER_MIB:.1f} MiB, see MANIFEST.txt)")


if __name__ == "__main__":
    main()
