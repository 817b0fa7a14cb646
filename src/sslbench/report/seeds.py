"""Verdicts over seeds (issue 18): a claim decided on several trainings of one setting gets one
pooled verdict, shown beside each seed's own, and is marked unstable when its seeds disagree.

A verdict from one seed is an anecdote. Where a claim's statistic has per-sample data in every
seed — a paired treated − control difference, an AUROC / AUPRC at the configured ε — the pooled
verdict applies the claim's own rule to an interval of the statistic's mean over seeds
(:func:`pooled_interval`): the two-level bootstrap interval (seeds, then test samples,
:func:`sslbench.analysis.bootstrap.hierarchical_bootstrap`) widened to the Student-t interval of
the per-seed values (:func:`sslbench.analysis.intervals.with_seed_spread`), so that three seeds
count as three draws of training and not as their range. Elsewhere (an ε selected per seed,
non-inferiority against other scores) the pooled verdict is the seeds' unanimous one
(:func:`sslbench.report.verdicts.per_seed_verdict`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sslbench.analysis.bootstrap import hierarchical_bootstrap
from sslbench.analysis.intervals import seed_interval, values_to_decide, with_seed_spread
from sslbench.analysis.prediction import auroc_auprc, single_class
from sslbench.report.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    OUTCOME_NAMES,
    REPLICATED,
    ci_above,
    decision_boundaries,
    minimal_threshold,
    paired_verdict,
    per_seed_verdict,
)

STABLE = "stable"
UNSTABLE = "unstable"
#: How a pooled verdict was reached (the claims table's "decided by" column).
TWO_LEVEL = (
    "95 % interval over seeds: the hull of the two-level bootstrap (seeds, then test samples)"
    " and the Student-t interval of the seeds' values"
)
UNANIMOUS = "every seed's own verdict (unanimous)"
#: why a row decided by its seeds' own verdicts stays open (scripts/readme_figures.py's WHY_GROUPS
#: group the measured runs' rows in docs/results by these texts)
SEEDS_DISAGREE = "the seeds disagree"
EVERY_SEED_UNDECIDED = "every seed is undecided"
#: The resamples and seed of the pooled intervals (the claims' rules give the confidence).
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0
#: The most seeds (or pairs) an undecided row's projection names; beyond it, "more than".
MAX_PROJECTED = 1000


def setting_of(group: str) -> str:
    """``dataset/method`` of a ``dataset/method/seedN`` group."""
    return group.rsplit("/", 1)[0]


def seed_of(group: str) -> str:
    """``seedN`` of a ``dataset/method/seedN`` group."""
    return group.rsplit("/", 1)[1]


def by_setting(runs: list[Any], variant: str) -> dict[str, list[Any]]:
    """Runs of ``variant`` per setting, in seed order."""
    out: dict[str, list[Any]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: r.group):
        if run.variant == variant:
            out[setting_of(run.group)].append(run)
    return dict(out)


def same_seed_pairs(a_runs: list[Any], b_runs: list[Any]) -> list[tuple[Any, Any]]:
    """(a, b) runs of the same ``dataset/method/seedN`` group, in ``a_runs``' order; a seed
    without both is left out."""
    b_of = {run.group: run for run in b_runs}
    return [(run, b_of[run.group]) for run in a_runs if run.group in b_of]


def seeds_label(groups: Sequence[str]) -> str:
    """The row label of one setting's seeds: the group itself for one seed, else
    ``dataset/method/seed0+seed1+seed2``."""
    if len(groups) == 1:
        return groups[0]
    return f"{setting_of(groups[0])}/" + "+".join(seed_of(g) for g in groups)


def over_seeds(
    groups: Sequence[str], results: Sequence[dict[str, Any]], pooled: dict[str, Any] | None
) -> dict[str, Any]:
    """The row result of one setting: a single seed's own result; for several seeds the
    ``pooled`` result (None: :func:`unanimous`) with every seed's verdict and whether they
    agree."""
    if len(results) == 1:
        return results[0]
    return (pooled or unanimous(results)) | {
        "seeds": seed_verdicts([seed_of(g) for g in groups], results),
        "agreement": agreement([r["verdict"] for r in results]),
    }


def agreement(verdicts: Sequence[str]) -> str:
    """ "stable" when every seed's verdict is the same, "unstable" when they differ; "" for a
    single seed (nothing to agree with)."""
    if len(verdicts) < 2:
        return ""
    return STABLE if len(set(verdicts)) == 1 else UNSTABLE


def seed_verdicts(seeds: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    """Each seed's verdict and value, e.g. "seed0 replicated (0.612); seed1 inconclusive (…)"."""
    return "; ".join(
        f"{seed} {r['verdict']} ({r['ours']:.3g})" for seed, r in zip(seeds, results, strict=True)
    )


def unanimous(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The seeds' unanimous verdict (any disagreement or undecided seed: inconclusive), with
    the mean of their values."""
    holds = [
        True if r["verdict"] == REPLICATED else False if r["verdict"] == CONTRADICTED else None
        for r in results
    ]
    verdicts = {r["verdict"] for r in results}
    return {
        "ours": float(np.nanmean([r["ours"] for r in results])),
        "detail": f"pooled as every seed's own verdict (n = {len(results)} seeds)",
        "verdict": per_seed_verdict(holds),
        "decided by": UNANIMOUS,
        "why": SEEDS_DISAGREE if len(verdicts) > 1 else EVERY_SEED_UNDECIDED,
    }


def per_seed_points(seeds: Sequence[str], holds: Sequence[bool | None]) -> dict[str, Any]:
    """Verdict, per-seed verdicts and agreement of a rule that decides each seed on its point
    values (True: the statement holds in that seed, False: it fails, None: undecided) and
    replicates only when every seed agrees (:func:`per_seed_verdict`)."""
    verdicts = [REPLICATED if h else INCONCLUSIVE if h is None else CONTRADICTED for h in holds]
    result: dict[str, Any] = {"verdict": per_seed_verdict(list(holds))}
    if len(holds) > 1:
        result |= {
            "seeds": "; ".join(f"{s} {v}" for s, v in zip(seeds, verdicts, strict=True)),
            "agreement": agreement(verdicts),
        }
        if agreement(verdicts) == UNSTABLE:
            result["why"] = SEEDS_DISAGREE
        elif all(h is None for h in holds):
            result["why"] = EVERY_SEED_UNDECIDED
    return result


def interval_why(
    values: Sequence[float], boundaries: tuple[float, ...], confidence: float, unit: str = "seeds"
) -> str:
    """Why an interval over seeds (or pairs) left its claim undecided, and how many would
    decide it were the values' mean and spread to stay as seen
    (:func:`sslbench.analysis.intervals.values_to_decide`, Student-t): issue 18's "claims that
    stay inconclusive say why (too few seeds, effect smaller than the interval)"."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    nearest = min(boundaries, key=lambda b: abs(mean - b))
    seen = (
        f"mean {mean:+.4f} is {abs(mean - nearest):.4f} from it, with SD {values.std(ddof=1):.4f}"
        f" over {values.size} {unit}"
    )
    needed = values_to_decide(values, boundaries, confidence, MAX_PROJECTED)
    if needed is None:
        projection = f"more than {MAX_PROJECTED:,} {unit} would be needed at this spread"
    elif needed <= values.size:
        projection = (
            f"{values.size} {unit} would suffice by a Student-t interval of their values; the"
            " test samples' noise, which the interval also holds, keeps it open (more test"
            " samples needed)"
        )
    else:
        projection = f"≈ {needed:,} {unit} would decide it at this spread (Student-t projection)"
    return (
        f"its {confidence * 100:g} % interval contains the claim's minimal effect: the {seen} —"
        f" {projection}"
    )


def t_interval_verdict(
    values: Sequence[float], kind: str, min_effect: float, confidence: float, unit: str = "seeds"
) -> tuple[tuple[float, float], dict[str, Any]]:
    """A paired rule (:func:`sslbench.report.verdicts.paired_verdict`: ``kind`` against
    ``min_effect``) on the Student-t interval of the mean of per-seed (or per-pair) ``values``:
    the interval (NaN for one value) and a result with ``ours`` (the mean), ``verdict`` and, when
    undecided over several values, ``why`` (:func:`interval_why`)."""
    values = np.asarray(values, dtype=float)
    mean, interval = seed_interval(values, confidence)
    result: dict[str, Any] = {"ours": mean, "verdict": paired_verdict(kind, interval, min_effect)}
    if result["verdict"] == INCONCLUSIVE and values.size > 1:
        boundaries = decision_boundaries(kind, min_effect)
        result["why"] = interval_why(values, boundaries, confidence, unit=unit)
    return interval, result


def pooled_interval(
    per_seed: Sequence[tuple[np.ndarray, ...]],
    statistic: Callable[..., float],
    rule: dict[str, Any],
) -> tuple[float, tuple[float, float], list[float]]:
    """Mean over seeds of ``statistic`` (of one seed's per-sample arrays), its interval at the
    rule's confidence — the hull of the two-level bootstrap interval and the Student-t interval
    of the per-seed values (:func:`sslbench.analysis.intervals.with_seed_spread`) — and the
    per-seed values."""
    confidence = rule.get("confidence", 0.95)
    point, interval = hierarchical_bootstrap(
        per_seed,
        statistic,
        rule.get("bootstrap_samples", BOOTSTRAP_SAMPLES),
        confidence,
        BOOTSTRAP_SEED,
    )
    values = [statistic(*arrays) for arrays in per_seed]
    return point, with_seed_spread(interval, values, confidence), values


def _interval_detail(name: str, point: float, interval: tuple[float, float], k: int) -> str:
    return f"{name} {point:+.4f} mean over {k} seeds, CI [{interval[0]:+.4f}, {interval[1]:+.4f}]"


def pooled_paired(claim: dict[str, Any], pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict:
    """A paired claim (:func:`sslbench.report.verdicts.evaluate_paired_claim`) over seeds: the
    interval of mean(treated) − mean(control) (:func:`pooled_interval`) against the rule's
    ``min_effect``."""
    rule = claim["rule"]
    per_seed = [(np.asarray(t, dtype=float), np.asarray(c, dtype=float)) for t, c in pairs]

    def difference(t: np.ndarray, c: np.ndarray) -> float:
        return float(t.mean() - c.mean())

    point, interval, values = pooled_interval(per_seed, difference, rule)
    outcome = claim["compare"].get("outcome", "correct")
    name = f"Δ {OUTCOME_NAMES.get(outcome, outcome)}"
    minimal = float(rule["min_effect"])
    verdict = paired_verdict(rule["kind"], interval, minimal)
    result = {
        "ours": point,
        "detail": _interval_detail(name, point, interval, len(per_seed))
        + f" vs minimal effect {minimal:.4f}",
        "verdict": verdict,
        "decided by": TWO_LEVEL,
    }
    if verdict == INCONCLUSIVE:
        result["why"] = interval_why(
            values, decision_boundaries(rule["kind"], minimal), rule.get("confidence", 0.95)
        )
    return result


def _predictor_statistic(stat: str) -> Callable[[np.ndarray, np.ndarray], float]:
    position = ("auroc", "auprc").index(stat)

    def statistic(score: np.ndarray, correct: np.ndarray) -> float:
        if single_class(correct) is not None:
            return float("nan")
        return auroc_auprc(score, correct)[position]

    return statistic


def pooled_ci_above(
    claim: dict[str, Any], summaries: Sequence[dict[str, Any]], scores: Sequence[Any]
) -> dict[str, Any]:
    """A ``ci_above`` claim on a score's AUROC / AUPRC over seeds: the interval of the
    statistic's mean (:func:`pooled_interval`) against the rule's minimal value (a
    ``share_correct`` threshold: the seeds' mean share of correct samples plus the margin)."""
    rule, stat = claim["rule"], claim["stat"]
    per_seed = [
        (s[claim["score"]].to_numpy(dtype=float), s["correct"].to_numpy(dtype=bool)) for s in scores
    ]
    point, interval, values = pooled_interval(per_seed, _predictor_statistic(stat), rule)
    threshold = float(np.mean([minimal_threshold(rule, summary) for summary in summaries]))
    result = {
        "ours": point,
        "detail": _interval_detail(stat.upper(), point, interval, len(per_seed))
        + f" vs minimal {threshold:.3f}",
        "verdict": ci_above(interval, threshold),
        "decided by": TWO_LEVEL,
    }
    if result["verdict"] == INCONCLUSIVE:
        result["why"] = interval_why(values, (threshold,), rule.get("confidence", 0.95))
    return result
