"""What a job costs before its work starts, in its own process and served by the job server.

Runs the same small job (``sslbench.cli prepare_dataset`` of a tiny Trifeature set, 0.2 s of
work) ``--rounds`` times each way, interleaved so both see the same machine load, and prints the
median wall seconds per job and their ratio (issue 19: start-up bounded the tiny DAG on a GPU
node). Usage: ``python benchmarks/job_startup.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sslbench import jobserver

JOB = {"source": "trifeature", "target": "colour", "image_size": 16, "seed": 0}
PARAMS = json.dumps({"dataset_config": JOB | {"n_train": 200, "n_test": 100}})
SERVER_START_TIMEOUT_S = 300


def one_job(folder: Path, name: str, server: Path | None) -> float:
    """Wall seconds of one ``prepare_dataset`` job, as Snakemake would start it."""
    env = {k: v for k, v in os.environ.items() if k != jobserver.ENV}
    if server is not None:
        env[jobserver.ENV] = str(server)
    command = [sys.executable, "-m", "sslbench.cli", "prepare_dataset", "--params", PARAMS]
    started = time.perf_counter()
    subprocess.run(
        [*command, "--out-dir", str(folder / name)], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        socket_path = folder / "jobs.sock"
        server = subprocess.Popen(
            [sys.executable, "-m", "sslbench.jobserver", str(socket_path), str(os.getpid())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        loading = time.perf_counter()
        while not socket_path.exists():
            if time.perf_counter() - loading > SERVER_START_TIMEOUT_S or server.poll() is not None:
                raise SystemExit("the job server did not start")
            time.sleep(0.1)
        print(f"job server ready after {time.perf_counter() - loading:.1f} s (imports once)")
        own, served = [], []
        for round_ in range(args.rounds):
            own.append(one_job(folder, f"own{round_}", None))
            served.append(one_job(folder, f"served{round_}", socket_path))
            print(
                f"round {round_ + 1}/{args.rounds}: own {own[-1]:.2f} s, served {served[-1]:.2f} s"
            )
        jobserver.stop(socket_path)
        server.wait(timeout=60)
    own_s, served_s = statistics.median(own), statistics.median(served)
    print(f"\n| job | median s per job |\n|---|---:|\n| own process | {own_s:.2f} |")
    print(f"| served | {served_s:.2f} |\n\nserved / own: {served_s / own_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
