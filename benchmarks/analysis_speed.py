"""Time the Q-Score analysis at ImageNet scale: A_j, D, Q-Score and its AUROC/AUPRC on an
N × r representation matrix (issue goal: 50,000 × 2,048 in ≤ 2 s).

    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 \
      .venv/bin/python benchmarks/analysis_speed.py [--samples 50000 --dim 2048 --threads 2]

(the allocator settings every pipeline job gets from workflow/rules/common.smk: without them
each N × r temporary is a fresh mmap, faulted in page by page).

The matrix is post-ReLU-like (|Gaussian| with a few strong features per sample) in float64, as
the analyse stage holds it; A_j and D come from the matrix (the "train set"), the Q-Score and
AUROC/AUPRC from the same rows scored against random correctness labels. Prints one Markdown
table: the best of ``--repeats`` wall times per step and in total.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from sslbench.analysis.prediction import auroc_auprc
from sslbench.analysis.qscore import activation_percentage, discriminative_features, q_score
from sslbench.cli import limit_threads

EPSILON, LOWER, UPPER = 4.0, 50, 95  # 001's ε and percentile window


def representations(n: int, r: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = np.abs(rng.standard_normal((n, r)))
    strong = rng.integers(0, r, (n, 8))
    np.put_along_axis(h, strong, 10.0 + rng.random((n, 8)), axis=1)
    return h


def best_time(fn, repeats: int):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    limit_threads(args.threads)  # as every pipeline job
    h = representations(args.samples, args.dim, seed=0)
    correct = np.random.default_rng(1).random(args.samples) < 0.7
    t_a, a = best_time(lambda: activation_percentage(h, EPSILON), args.repeats)
    t_d, d = best_time(lambda: discriminative_features(a, LOWER, UPPER), args.repeats)
    t_q, q = best_time(lambda: q_score(h, d, EPSILON), args.repeats)
    t_auc, _ = best_time(lambda: auroc_auprc(q, correct), args.repeats)
    total = t_a + t_d + t_q + t_auc
    tunables = "set" if os.environ.get("GLIBC_TUNABLES") else "unset"
    print(
        f"{args.samples} × {args.dim} float64, {args.threads} threads, best of {args.repeats}, "
        f"GLIBC_TUNABLES {tunables}\n"
    )
    print("| step | seconds |\n|---|---:|")
    for name, seconds in (
        ("A_j (activation_percentage)", t_a),
        (f"D (discriminative_features, |D| = {len(d)})", t_d),
        ("Q-Score (q_score)", t_q),
        ("AUROC + AUPRC (scikit-learn)", t_auc),
        ("**total** (goal ≤ 2 s)", total),
    ):
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
