"""Verdicts of the claims registry (workflow/report/claims.yaml), computed from our numbers.

A verdict is "replicated", "not replicated" or "inconclusive"; it only depends on the
pipeline's outputs (point estimates and bootstrap intervals), never on the paper's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REPLICATED = "replicated"
NOT_REPLICATED = "not replicated"
INCONCLUSIVE = "inconclusive"


def ci_above(interval: tuple[float, float], threshold: float) -> str:
    """Replicated when the whole interval lies above ``threshold``, refuted when below it."""
    low, high = interval
    if low > threshold:
        return REPLICATED
    if high < threshold:
        return NOT_REPLICATED
    return INCONCLUSIVE


def best_of(
    value: float, others: Mapping[str, float], other_intervals: Mapping[str, tuple[float, float]]
) -> str:
    """Replicated when ``value`` ≥ every other point estimate; refuted when some other metric's
    whole interval lies above ``value``."""
    if all(value >= v for v in others.values()):
        return REPLICATED
    if any(low > value for low, _ in other_intervals.values()):
        return NOT_REPLICATED
    return INCONCLUSIVE


def evaluate_claim(claim: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, Any]:
    """Our value and the verdict of one ``claim`` for one run's Q-Score ``summary``."""
    metrics = summary["metrics"]
    stat = claim["stat"]
    ours = metrics[claim["score"]]
    rule = claim["rule"]
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
