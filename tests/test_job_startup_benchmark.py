"""benchmarks/job_startup.py runs end to end (one round) and prints its ratio."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # the job server imports every stage once
def test_job_startup_benchmark_prints_both_medians_and_their_ratio():
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/job_startup.py"), "--rounds", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    own = float(re.search(r"\| own process \| ([\d.]+) \|", result.stdout)[1])
    served = float(re.search(r"\| served \| ([\d.]+) \|", result.stdout)[1])
    ratio = float(re.search(r"served / own: ([\d.]+)", result.stdout)[1])
    assert own > 0 and served > 0
    assert ratio == pytest.approx(served / own, abs=0.01)
