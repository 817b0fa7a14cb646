"""Verdicts of the claims registry (workflow/report/claims.yaml), computed from our numbers.

A verdict is "replicated", "contradicted" or "inconclusive"; it only depends on the
pipeline's outputs (point estimates and bootstrap intervals), never on the paper's value.
The generic rules (``ci_above``, ``per_seed_verdict``, ``lookup``) serve every paper's rule
module; the intervals themselves are computed in :mod:`sslbench.analysis`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sslbench.analysis.bootstrap import paired_mean_difference
from sslbench.analysis.prediction import paired_auroc_difference
from sslbench.report.claim_kinds import unknown_kind

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


def per_seed_verdict(holds: list[bool | None]) -> str:
    """Replicated when the statement holds in every seed, contradicted when it fails in every
    seed; a seed whose outcome is ``None`` (undecided) makes the verdict inconclusive."""
    if all(h is not None and h for h in holds):
        return REPLICATED
    if all(h is not None and not h for h in holds):
        return CONTRADICTED
    return INCONCLUSIVE


def lookup(result: dict[str, Any], path: str) -> Any:
    """``result["a"]["b"]`` for ``path`` "a.b"."""
    for key in path.split("."):
        result = result[key]
    return result


def minimal_threshold(rule: Mapping[str, Any], summary: Mapping[str, Any]) -> float:
    """The minimal value a ``ci_above`` claim's interval must clear: a number, or
    ``share_correct`` (a random score's AUPRC) plus the rule's ``margin``."""
    if rule["threshold"] == "share_correct":
        return float(summary["share_correct"]) + float(rule["margin"])
    return float(rule["threshold"])


def non_inferior(
    own: tuple[float, float],
    minimal: float,
    differences: Mapping[str, tuple[float, float]],
    margin: float,
) -> str:
    """A score at least as good as every other (000 Table 1's "Q-Score is the most effective"):
    inconclusive while its own AUROC interval is not above ``minimal`` (ranking scores that
    predict nothing says nothing) unless another is clearly better; contradicted when some
    other's paired AUROC difference (own − other) lies wholly below −``margin``; replicated when
    every difference's interval lies above −``margin``."""
    if any(high < -margin for _, high in differences.values()):
        return CONTRADICTED
    if own[0] <= minimal:
        return INCONCLUSIVE
    if all(low > -margin for low, _ in differences.values()):
        return REPLICATED
    return INCONCLUSIVE


def _non_inferior_claim(
    claim: Mapping[str, Any], summary: Mapping[str, Any], scores: Any
) -> dict[str, Any]:
    rule, score = claim["rule"], claim["score"]
    correct = scores["correct"].to_numpy(dtype=bool)
    differences, points = {}, {}
    for name in rule["others"]:
        points[name], differences[name] = paired_auroc_difference(
            scores[score].to_numpy(),
            scores[name].to_numpy(),
            correct,
            rule["bootstrap_samples"],
            rule["confidence"],
            0,
        )
    own = summary["metrics"][score]
    verdict = non_inferior(tuple(own["auroc_ci"]), rule["minimal"], differences, rule["margin"])
    detail = (
        f"AUROC {own['auroc']:.3f} [{own['auroc_ci'][0]:.3f}, {own['auroc_ci'][1]:.3f}] "
        f"(minimal {rule['minimal']:.2f}); own − other: "
        + ", ".join(
            f"{n} {points[n]:+.3f} [{lo:+.3f}, {hi:+.3f}]" for n, (lo, hi) in differences.items()
        )
        + f" (margin {rule['margin']:.2f})"
    )
    return {"ours": own["auroc"], "detail": detail, "verdict": verdict}


def evaluate_claim(
    claim: Mapping[str, Any], summary: Mapping[str, Any], scores: Any = None
) -> dict[str, Any]:
    """Our value and the verdict of one ``claim`` for one run's Q-Score ``summary`` (and its
    per-sample ``scores``, which the ``non_inferior`` kind resamples)."""
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
            "why": "not computable on this model",
        }
    if rule["kind"] == "ci_above":
        threshold = minimal_threshold(rule, summary)
        verdict = ci_above(tuple(ours[f"{stat}_ci"]), threshold)
        detail = (
            f"{stat.upper()} {ours[stat]:.3f}, CI [{ours[f'{stat}_ci'][0]:.3f}, "
            f"{ours[f'{stat}_ci'][1]:.3f}] vs minimal {threshold:.3f}"
        )
    elif rule["kind"] == "non_inferior":
        return _non_inferior_claim(claim, summary, scores)
    else:
        raise ValueError(unknown_kind("rule", rule["kind"]))
    return {"ours": ours[stat], "detail": detail, "verdict": verdict}


def paired_verdict(kind: str, interval: tuple[float, float], min_effect: float) -> str:
    """Verdict of a treated − control difference against the claim's minimal effect:

    * ``improves`` — replicated when the interval lies above ``min_effect``, contradicted when
      it lies below it (an effect that large is excluded);
    * ``degrades`` — replicated when it lies below −``min_effect``, contradicted when above it;
    * ``does_not_improve`` — replicated when it lies below ``min_effect`` (an improvement that
      large is excluded), contradicted when above it;
    * ``equivalent`` — replicated when it lies inside ±``min_effect``, contradicted when it lies
      wholly outside.
    """
    low, high = interval
    if kind == "improves":
        return ci_above(interval, min_effect)
    if kind == "degrades":
        return ci_above((-high, -low), min_effect)
    if kind == "does_not_improve":
        return ci_above((-high, -low), -min_effect)
    if kind == "equivalent":
        if -min_effect < low and high < min_effect:
            return REPLICATED
        if low > min_effect or high < -min_effect:
            return CONTRADICTED
        return INCONCLUSIVE
    raise ValueError(unknown_kind("compare", kind))


def decision_boundaries(kind: str, min_effect: float) -> tuple[float, ...]:
    """The values of a treated − control difference at which :func:`paired_verdict` changes:
    an interval that contains none of them is decided."""
    if kind in ("improves", "does_not_improve"):
        return (min_effect,)
    if kind == "degrades":
        return (-min_effect,)
    if kind == "equivalent":
        return (-min_effect, min_effect)
    raise ValueError(unknown_kind("compare", kind))


def evaluate_paired_claim(
    claim: Mapping[str, Any], treated: np.ndarray, control: np.ndarray
) -> dict[str, Any]:
    """Verdict of a claim comparing two models of one run on the same test samples: the paired
    bootstrap interval of mean(treated) − mean(control) of the claim's ``outcome`` column
    (correctness by default) against the rule's ``min_effect`` (:func:`paired_verdict`)."""
    rule = claim["rule"]
    diff, (low, high) = paired_mean_difference(
        treated, control, rule.get("bootstrap_samples", 1000), rule.get("confidence", 0.95), 0
    )
    verdict = paired_verdict(rule["kind"], (low, high), float(rule["min_effect"]))
    outcome = claim["compare"].get("outcome", "correct") if "compare" in claim else "correct"
    detail = (
        f"Δ {OUTCOME_NAMES.get(outcome, outcome)} {diff:+.4f}, CI [{low:+.4f}, {high:+.4f}]"
        f" vs minimal effect {rule['min_effect']:.4f}"
    )
    return {"ours": diff, "detail": detail, "verdict": verdict}


OUTCOME_NAMES = {"correct": "accuracy", "knn_correct": "k-NN accuracy"}


def did_not_move(changed: float, threshold: float) -> dict[str, Any]:
    """The result of a claim whose treated model changed fewer than ``threshold`` of its test
    predictions from the model it started from (issue 17): never replicated."""
    return {
        "ours": float("nan"),
        "detail": (
            f"inconclusive — the model did not move: {changed:.2%} of test predictions changed "
            f"from its starting model (threshold {threshold:.2%})"
        ),
        "verdict": INCONCLUSIVE,
        "why": "the treated model did not move from its start",
    }
