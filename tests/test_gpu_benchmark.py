"""benchmarks/gpu.py on the CPU: it must keep running where no GPU is (no test needs one)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_benchmark_runs_the_loop_step_on_the_cpu(tmp_path):
    out = tmp_path / "rows.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--device", "cpu"]
    cmd += ["--methods", "simclr", "mocov2", "--width", "4", "--batch-size", "16"]
    cmd += ["--images", "64", "--steps", "1", "--peak-side", "128", "--json", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    # both methods in the pipeline's layout, then SimCLR in the contiguous one and with LARS
    # tensor by tensor; each with the in-loop and the model-only step, at a positive rate
    assert [(r["method"], r["variant"], r["step"]) for r in rows] == [
        ("simclr", "pipeline", "in_loop"),
        ("simclr", "pipeline", "model"),
        ("mocov2", "pipeline", "in_loop"),
        ("mocov2", "pipeline", "model"),
        ("simclr", "contiguous", "in_loop"),
        ("simclr", "contiguous", "model"),
        ("simclr", "lars_per_tensor", "in_loop"),
        ("simclr", "lars_per_tensor", "model"),
    ]
    assert all(r["views_per_s"] > 0 and r["tflops"] > 0 for r in rows)
    assert "| simclr | pipeline | in_loop |" in result.stdout
