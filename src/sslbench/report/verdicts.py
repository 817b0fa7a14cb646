"""Verdicts of the claims registry (workflow/report/claims.yaml), computed from our numbers.

A verdict is "replicated", "contradicted" or "inconclusive"; it only depends on the
pipeline's outputs (point estimates and bootstrap intervals), never on the paper's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sslbench.analysis.bootstrap import percentile_interval

REPLICATED = "replicated"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"


def ci_above(interval: tuple[float, float], threshold: float) -> str:
    """Replicated when the whole interval lies above ``threshold``, contradicted when below it."""
    low, high = interval
    if low > threshold:
        return REPLICATED
    if high < threshold:
        return CONTRADICTED
    return INCONCLUSIVE


def best_of(
    value: float, others: Mapping[str, float], other_intervals: Mapping[str, tuple[float, float]]
) -> str:
    """Replicated when ``value`` ≥ every other point estimate; contradicted when some other metric's
    whole interval lies above ``value``."""
    if all(value >= v for v in others.values()):
        return REPLICATED
    if any(low > value for low, _ in other_intervals.values()):
        return CONTRADICTED
    return INCONCLUSIVE


def evaluate_claim(claim: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, Any]:
    """Our value and the verdict of one ``claim`` for one run's Q-Score ``summary``."""
    metrics = summary["metrics"]
    stat = claim["stat"]
    ours = metrics[claim["score"]]
    rule = claim["rule"]
    if ours[stat] is None:  # one class of correctness: the analysis recorded why
        reason = summary.get("not_computable", "no value")
        return {
            "ours": float("nan"),
            "detail": f"not computable: {reason}",
            "verdict": INCONCLUSIVE,
        }
    if rule["kind"] == "ci_above":
        threshold = rule["threshold"]
        if threshold == "share_correct":
            threshold = summary["share_correct"]
        verdict = ci_above(tuple(ours[f"{stat}_ci"]), float(threshold))
        detail = f"CI [{ours[f'{stat}_ci'][0]:.3f}, {ours[f'{stat}_ci'][1]:.3f}] vs {threshold:.3f}"
    elif rule["kind"] == "best_of":
        others = {name: metrics[name][stat] for name in rule["others"]}
        intervals = {name: tuple(metrics[name][f"{stat}_ci"]) for name in rule["others"]}
        verdict = best_of(ours[stat], others, intervals)
        best = max(others, key=others.get)
        detail = f"best other: {best} {others[best]:.3f}"
    else:
        raise ValueError(f"claims: unknown rule kind {rule['kind']!r}; allowed ci_above, best_of")
    return {"ours": ours[stat], "detail": detail, "verdict": verdict}


def paired_accuracy_difference(
    treated: np.ndarray, control: np.ndarray, n_samples: int, confidence: float, seed: int
) -> tuple[float, tuple[float, float]]:
    """Accuracy(treated) − accuracy(control) on the same test samples, with a paired
    percentile-bootstrap interval (both correctness vectors resampled with the same indices)."""
    treated, control = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, treated.size, (n_samples, treated.size))
    diffs = treated[idx].mean(axis=1) - control[idx].mean(axis=1)
    low, high = percentile_interval(diffs, confidence)
    return float(treated.mean() - control.mean()), (float(low), float(high))


def evaluate_paired_claim(
    claim: Mapping[str, Any], treated: np.ndarray, control: np.ndarray
) -> dict[str, Any]:
    """Verdict of a claim comparing two models of one run on the same test samples.

    ``rule.kind``: ``improves`` — replicated when the interval of the accuracy difference lies
    above 0, contradicted when below; ``does_not_improve`` — contradicted when it lies above 0,
    replicated when it lies at or below 0 entirely, inconclusive otherwise.
    """
    rule = claim["rule"]
    diff, (low, high) = paired_accuracy_difference(
        treated, control, rule.get("bootstrap_samples", 1000), rule.get("confidence", 0.95), 0
    )
    if rule["kind"] == "improves":
        verdict = ci_above((low, high), 0.0)
    elif rule["kind"] == "does_not_improve":
        verdict = CONTRADICTED if low > 0 else REPLICATED if high <= 0 else INCONCLUSIVE
    else:
        raise ValueError(f"claims: unknown paired rule {rule['kind']!r}")
    detail = f"Δ accuracy {diff:+.4f}, CI [{low:+.4f}, {high:+.4f}]"
    return {"ours": diff, "detail": detail, "verdict": verdict}
