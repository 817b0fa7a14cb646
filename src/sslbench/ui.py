"""``sslbench-ui``: the MLflow UI over the pipeline's store, bound to 127.0.0.1 unless told
otherwise, opening on the experiment's runs table, with telemetry off.

Binding to loopback keeps the tracking data private to the machine; pass ``--host 0.0.0.0``
explicitly to expose it. Before serving, the store's artifact locations are re-rooted on this
project's ``mlartifacts`` (a copied project serves its own artifacts) and the experiment is
tagged so that the UI shows its runs, not the GenAI overview (:mod:`sslbench.store_location`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_STORE = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "sslbench"
DEFAULT_ARTIFACTS = Path("mlartifacts")
#: Environment of the server: MLflow's usage telemetry (and the UI's banner about it) off.
TELEMETRY_OFF = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def mlflow_command(store: str, host: str, port: int) -> list[str]:
    """The ``mlflow ui`` command line for ``store`` on ``host:port``."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        store,
        "--host",
        host,
        "--port",
        str(port),
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sslbench-ui", description=__doc__)
    parser.add_argument("--store", default=DEFAULT_STORE, help="MLflow backend store URI")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="experiment to open")
    parser.add_argument(
        "--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="this project's artifact root"
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    os.environ.update(TELEMETRY_OFF)
    from sslbench.store_location import prepare_store_for_ui, runs_page_url

    experiment_id = prepare_store_for_ui(args.store, args.experiment, args.artifacts)
    if experiment_id is not None:
        print(f"sslbench: the runs of {args.experiment!r} are at", end=" ")
        print(runs_page_url(args.host, args.port, experiment_id), flush=True)
    command = mlflow_command(args.store, args.host, args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
