"""Execute a report notebook with papermill on a Jupyter kernel that talks over Unix sockets in
a directory of its own.

jupyter_client picks a kernel's TCP ports before the kernel binds them, so report pages that
start their kernels side by side can race for one port ("Address already in use", "Kernel died
before replying to kernel_info": one report page of a CI run's tiny DAG lost it, 2026-11-27).
IPC endpoints inside a fresh private directory cannot collide with another job's.

    python -m sslbench.report.execute NOTEBOOK OUTPUT [-r NAME VALUE ...] [--cwd DIR]

``-r`` passes a parameter as a raw string, as papermill's own ``-r`` does (papermill's ``-p``
reads number-like strings as numbers: an experiment named "1e3" would arrive as 1000.0).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

import papermill
from traitlets.config import Config

#: Prefix of the private directory that holds one kernel's IPC endpoints.
IPC_DIR_PREFIX = "sslbench-kernel-"


def ipc_kernel_config(endpoints: Path) -> Config:
    """The kernel manager's settings (nbclient hands its own config to the kernel manager it
    creates): Unix sockets named ``endpoints``-N instead of TCP ports (jupyter_client's own IPC
    default, ``kernel-ipc`` in the working directory, would be shared by every page run from
    the same directory)."""
    return Config({"KernelManager": {"transport": "ipc", "ip": str(endpoints)}})


def execute(notebook: Path, output: Path, parameters: dict[str, str], cwd: Path) -> None:
    """papermill's execution of ``notebook`` into ``output`` with ``parameters`` injected, its
    kernel on IPC endpoints in a private directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=IPC_DIR_PREFIX) as endpoints:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            cwd=str(cwd),
            config=ipc_kernel_config(Path(endpoints) / "ipc"),
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument(
        "-r",
        dest="parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter, passed as a raw string",
    )
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the kernel's directory")
    args = parser.parse_args(argv)
    execute(args.notebook, args.output, dict(args.parameters), args.cwd)


if __name__ == "__main__":
    main()
