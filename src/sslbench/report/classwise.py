"""000 Fig. 6's class-wise claim: Q-Score regularisation improves the lowest-accuracy third of
the classes most ("When grouped into 3 sections, we observe the most improvement (5.86 %) in the
classes of lowest accuracy").

The classes are cut into ``groups`` sections by the control's per-class accuracy on one random
half of the test samples (``split_seed``) and the per-class accuracy changes are measured on the
other half: grouping and measuring on the same samples would let classes that scored low by
chance "improve" by regression to the mean. "The most improvement in the lowest third" is two
statements, both decided: the lowest group's mean per-class gain is positive ("improvement",
+5.86 % in 000), and it exceeds the other groups' mean
(:func:`sslbench.analysis.classwise.lowest_group_gain_gap`) — a regulariser that ruins the model
and costs the strongest classes most does not "improve the weakest most". Each is decided like
a paired claim against the rule's ``min_effect`` on a bootstrap interval over the measured
half's samples — over seeds when the pair was trained with several
(:func:`sslbench.report.seeds.pooled_interval`: the hull of the two-level bootstrap and the
Student-t interval of the seeds' values); replicated when both are, contradicted when either is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sslbench.analysis.classwise import accuracy_groups, classwise_accuracy, group_gains
from sslbench.report.seeds import TWO_LEVEL, interval_why, pooled_interval
from sslbench.report.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    REPLICATED,
    decision_boundaries,
    paired_verdict,
)

#: the two statements of "the most improvement in the lowest third", as an open row names them
LOWEST_GAIN = "the lowest group's gain"
GAIN_GAP = "its gain over the other groups' mean"


def held_out_arrays(
    treated: Any, control: Any, rule: dict[str, Any], n_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(treated correct, control correct, label, group of the label's class) of the measured
    half of the test samples, the groups cut on the other half by the control's accuracy."""
    labels = control.predictions["label"].to_numpy()
    control_correct = control.predictions["correct"].to_numpy(dtype=float)
    treated_correct = treated.predictions["correct"].to_numpy(dtype=float)
    order = np.random.default_rng(rule["split_seed"]).permutation(labels.size)
    grouping, measured = order[: labels.size // 2], order[labels.size // 2 :]
    accuracy = classwise_accuracy(labels[grouping], control_correct[grouping] > 0, n_classes)
    groups = accuracy_groups(accuracy, rule["groups"])
    return (
        treated_correct[measured],
        control_correct[measured],
        labels[measured],
        groups[labels[measured]],
    )


def _gains(n_classes: int, treated, control, labels, sample_groups) -> np.ndarray:
    groups = np.zeros(n_classes, dtype=int)
    groups[labels] = sample_groups
    return group_gains(labels, treated, control, groups)


def evaluate_classwise_claim(
    claim: dict[str, Any], pairs: Sequence[tuple[Any, Any]]
) -> dict[str, Any]:
    """The claim over the (treated, control) runs of one or several seeds."""
    rule, classwise = claim["rule"], claim["classwise"]
    n_classes = int(max(control.predictions["label"].max() for _, control in pairs)) + 1
    per_seed = [held_out_arrays(t, c, classwise, n_classes) for t, c in pairs]
    missing = [np.setdiff1d(np.arange(n_classes), labels).size for _, _, labels, _ in per_seed]
    if any(missing):
        return {
            "ours": float("nan"),
            "detail": f"not computable: {max(missing)} class(es) without a measured test sample",
            "verdict": INCONCLUSIVE,
            "why": "not computable on this model",
        }

    def lowest_gain(*arrays: np.ndarray) -> float:
        return float(_gains(n_classes, *arrays)[0])

    def gap(*arrays: np.ndarray) -> float:
        gains = _gains(n_classes, *arrays)
        return float(gains[0] - gains[1:].mean())

    # the same resamples for both statistics (one seed for the bootstrap's generator)
    gain, gain_ci, gain_seeds = pooled_interval(per_seed, lowest_gain, rule)
    point, interval, gap_seeds = pooled_interval(per_seed, gap, rule)
    minimal = float(rule["min_effect"])
    statements = {LOWEST_GAIN: (gain_ci, gain_seeds), GAIN_GAP: (interval, gap_seeds)}
    verdicts = {paired_verdict(rule["kind"], ci, minimal) for ci, _ in statements.values()}
    gains = np.mean([_gains(n_classes, *arrays) for arrays in per_seed], axis=0)
    shown = ", ".join(f"{g:+.4f}" for g in gains)
    pooled = {"decided by": TWO_LEVEL} if len(per_seed) > 1 else {}
    if len(per_seed) > 1 and both_hold(verdicts) == INCONCLUSIVE:
        pooled["why"] = open_statements_why(statements, rule)
    return pooled | {
        "ours": point,
        "detail": (
            f"mean per-class Δ accuracy by control-accuracy group (lowest first) {shown}; lowest"
            f" group's gain {gain:+.4f}, CI [{gain_ci[0]:+.4f}, {gain_ci[1]:+.4f}]; lowest − the"
            f" others' mean {point:+.4f}, CI [{interval[0]:+.4f}, {interval[1]:+.4f}]; both vs"
            f" minimal effect {minimal:.4f}; {len(per_seed)} seed(s), groups cut on half of the"
            " test samples, gains on the other half"
        ),
        "verdict": both_hold(verdicts),
    }


def open_statements_why(
    statements: dict[str, tuple[tuple[float, float], list[float]]], rule: dict[str, Any]
) -> str:
    """Why each statement left undecided (its interval over seeds, its per-seed values) is
    open (:func:`sslbench.report.seeds.interval_why`)."""
    minimal = float(rule["min_effect"])
    boundaries = decision_boundaries(rule["kind"], minimal)
    confidence = rule.get("confidence", 0.95)
    return "; ".join(
        f"{name}: {interval_why(values, boundaries, confidence)}"
        for name, (interval, values) in statements.items()
        if paired_verdict(rule["kind"], interval, minimal) == INCONCLUSIVE
    )


def both_hold(verdicts: set[str]) -> str:
    """Replicated when both statements are (the lowest group gains, and more than the others),
    contradicted when either is, else inconclusive."""
    if verdicts == {REPLICATED}:
        return REPLICATED
    return CONTRADICTED if CONTRADICTED in verdicts else INCONCLUSIVE
