"""``sslbench-ui``: the MLflow UI over the pipeline's store, bound to 127.0.0.1 unless told
otherwise.

Binding to loopback keeps the tracking data private to the machine; pass ``--host 0.0.0.0``
explicitly to expose it.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_STORE = "sqlite:///mlflow.db"


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sslbench-ui", description=__doc__)
    parser.add_argument("--store", default=DEFAULT_STORE, help="MLflow backend store URI")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    command = mlflow_command(args.store, args.host, args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
