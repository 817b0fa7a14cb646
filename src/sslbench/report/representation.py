"""Tables and claim verdicts of the per-model representation analyses: compression curves
(001 Fig. 2, A.5, A.7), spectra and effective ranks (002 Fig. 2, 003 Fig. 1, 3) and GradCAM
mIoU (001 Fig. 7).

Claims are decided per setting (dataset/method) over its seeds:

* ``curve_above`` — curve ``a`` lies above curve ``b`` at every keep fraction in
  [``keep_min``, ``keep_max``] of every seed (replicated), below at every one (contradicted),
  otherwise inconclusive;
* ``curve_matches`` — ``|a − b| ≤ tolerance`` at every such point (replicated), above it at
  every one (contradicted);
* ``less_than`` — a value of variant ``a`` is below that of variant ``b`` in each seed (by
  separate bootstrap intervals where the values have them);
* ``ratio_within`` — the relative change ``a / b − 1`` of a value of variant ``a`` against that
  of variant ``b`` (same seed) has a Student-t interval over seeds inside ±``tolerance``
  (replicated: "unchanged") or wholly outside it (contradicted);
* ``median_above`` — the median over features of a per-feature value (e.g. how much of its most
  activated class a discriminative feature activates) lies above ``threshold`` in every seed;
* ``miou`` — an interval of a difference of mean IoUs (or of the core IoU and its chance level,
  the core's area) lies above 0 (replicated), below 0 (contradicted) or contains it
  (inconclusive): the bootstrap interval of the samples pooled over seeds, widened to the
  Student-t interval of the seeds' own differences (:mod:`sslbench.analysis.miou`).

``curve_matches`` with ``b: full`` compares a curve with the probe on all of h (001's
"compress by up to 40 % with little loss").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sslbench.analysis.miou import WITHIN_MODEL, pooled_iou_difference
from sslbench.report.claim_kinds import unknown_kind
from sslbench.report.seeds import (
    by_setting,
    interval_why,
    over_seeds,
    per_seed_points,
    same_seed_pairs,
    seed_of,
    t_interval_verdict,
)
from sslbench.report.verdicts import (
    INCONCLUSIVE,
    ci_above,
    lookup,
    paired_verdict,
    per_seed_verdict,
)

#: Confidence of the representation claims' intervals (mIoU bootstrap, ratio t-interval).
CONFIDENCE = 0.95


def curve_points(run: Any, rule: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Curves ``a`` and ``b`` of one run at the keep fractions inside the rule's range."""
    curves = run.representation["compression"]
    keep = np.asarray(curves["keep_percent"]) / 100.0
    inside = (keep >= rule.get("keep_min", 0.0) - 1e-9) & (keep <= rule.get("keep_max", 1.0) + 1e-9)
    a = np.asarray(curves[rule["a"]])
    # b "full": the probe on all of h (curve a at keep 100 %), for "compress with little loss"
    b = (
        np.full_like(a, a[np.argmax(keep)])
        if rule["b"] == "full"
        else np.asarray(curves[rule["b"]])
    )
    return a[inside], b[inside]


def curve_verdict(runs: list[Any], rule: dict[str, Any]) -> dict[str, Any] | None:
    diffs = np.concatenate([a - b for a, b in (curve_points(run, rule) for run in runs)])
    if diffs.size == 0:
        return None
    if rule["kind"] == "curve_above":
        holds, fails = diffs > 0, diffs < 0
    else:
        holds, fails = np.abs(diffs) <= rule["tolerance"], np.abs(diffs) > rule["tolerance"]
    verdict = per_seed_verdict(list(holds))
    if verdict != "replicated" and not fails.all():
        verdict = "inconclusive"
    detail = (
        f"{rule['a']} − {rule['b']} at {diffs.size} point(s) over {len(runs)} seed(s): "
        + ", ".join(f"{d:+.3f}" for d in diffs)
    )
    return {"ours": float(diffs.mean()), "detail": detail, "verdict": verdict}


def value_with_interval(run: Any, path: str) -> tuple[float, tuple[float, float] | None]:
    """The value at ``path`` and its interval (the sibling ``<path>_ci``) where one is stored."""
    parent, _, key = path.rpartition(".")
    holder = lookup(vars(run), parent) if parent else vars(run)
    interval = holder.get(f"{key}_ci")
    if holder[key] is None:  # not computable (e.g. AUROC where every sample is correct)
        return float("nan"), None
    return float(holder[key]), None if interval is None else (
        float(interval[0]),
        float(interval[1]),
    )


def below(
    a: tuple[float, tuple[float, float] | None], b: tuple[float, tuple[float, float] | None]
) -> bool | None:
    """Whether value ``a`` lies below value ``b``: by their intervals where both have one
    (True when a's lies wholly below b's, False when wholly above, None when they overlap),
    else by the values themselves; None when either is NaN (not computable)."""
    (u, u_ci), (v, v_ci) = a, b
    if np.isnan(u) or np.isnan(v):  # a value that was not computable decides nothing
        return None
    if u_ci is None or v_ci is None:
        return u < v
    if u_ci[1] < v_ci[0]:
        return True
    if u_ci[0] > v_ci[1]:
        return False
    return None


def _shown(value: tuple[float, tuple[float, float] | None]) -> str:
    point, interval = value
    return f"{point:.3f}" + ("" if interval is None else f" [{interval[0]:.3f}, {interval[1]:.3f}]")


def seed_pairs(
    runs: list[Any], rule: dict[str, Any]
) -> list[tuple[str, list[str], list[tuple[Any, Any]]]]:
    """(setting, its seeds' groups, the (``a``, ``b``) value of each seed) for every setting that
    has both of the rule's variants; each value is (point, interval or None)."""
    a_runs, b_runs = by_setting(runs, rule["a"]["variant"]), by_setting(runs, rule["b"]["variant"])
    out = []
    for setting in sorted(set(a_runs) & set(b_runs)):
        paired = same_seed_pairs(a_runs[setting], b_runs[setting])
        values = [
            (value_with_interval(x, rule["a"]["path"]), value_with_interval(y, rule["b"]["path"]))
            for x, y in paired
        ]
        out.append((setting, [x.group for x, _ in paired], values))
    return out


def less_than_verdict(runs: list[Any], rule: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Per setting: replicated when ``a`` lies below ``b`` in every seed, contradicted when above
    in every seed. Values with bootstrap intervals (AUROC, sparsity) must have separate
    intervals to count — two overlapping 95 % intervals leave that seed undecided."""
    rows = []
    for setting, groups, pairs in seed_pairs(runs, rule):
        seeds = [seed_of(group) for group in groups]
        detail = "; ".join(
            f"{s}: {_shown(u)} vs {_shown(v)}" for s, (u, v) in zip(seeds, pairs, strict=True)
        )
        result = {
            "ours": float(np.mean([u[0] for u, _ in pairs])),
            "detail": detail,
        } | per_seed_points(seeds, [below(u, v) for u, v in pairs])
        rows.append((f"{setting}: {rule['a']['variant']} vs {rule['b']['variant']}", result))
    return rows


def ratio_within_verdict(runs: list[Any], rule: dict[str, Any]) -> list[tuple[str, dict]]:
    """Per setting: the relative change ``a / b − 1`` in each seed (e.g. of an effective rank)
    and the Student-t interval of its mean over seeds, against ±``tolerance``
    (:func:`sslbench.report.verdicts.paired_verdict`'s ``equivalent``): replicated when the
    interval lies inside, contradicted when wholly outside, else inconclusive with how many
    seeds would decide it. One seed is decided on its point value."""
    rows = []
    for setting, groups, pairs in seed_pairs(runs, rule):
        tolerance = float(rule["tolerance"])
        change = np.array([u[0] / v[0] - 1.0 for u, v in pairs])
        detail = f"{rule['a']['variant']} / {rule['b']['variant']} − 1: " + ", ".join(
            f"{seed_of(g)} {u[0]:.2f} / {v[0]:.2f} − 1 = {c:+.3f}"
            for g, (u, v), c in zip(groups, pairs, change, strict=True)
        )
        per_seed = [
            {
                "ours": c,
                "detail": detail,
                "verdict": paired_verdict("equivalent", (c, c), tolerance),
            }
            for c in change
        ]
        interval, pooled = t_interval_verdict(change, "equivalent", tolerance, CONFIDENCE)
        pooled["detail"] = (
            f"{detail}; mean {pooled['ours']:+.3f}, {CONFIDENCE * 100:g} % t-interval "
            f"[{interval[0]:+.3f}, {interval[1]:+.3f}] vs ±{tolerance:.2f}"
        )
        label = f"{setting}: {rule['a']['variant']} vs {rule['b']['variant']}"
        rows.append((label, over_seeds(groups, per_seed, pooled)))
    return rows


def _has(result: dict[str, Any], path: str) -> bool:
    try:
        lookup(result, path)
    except KeyError:
        return False
    return True


def _not_stored(path: str) -> dict[str, Any]:
    """The result of a claim whose value an older representation analysis did not store."""
    return {
        "ours": float("nan"),
        "detail": f"{path} is not in representation.json: it was written by an older version",
        "verdict": "inconclusive",
        "why": "not computable on this model (rerun its representation job)",
    }


def median_above_verdict(runs: list[Any], rule: dict[str, Any]) -> list[tuple[str, dict]]:
    """Per setting: replicated when the median of the per-feature values at ``path`` (of the
    baseline's representation analysis) lies above ``threshold`` in every seed, contradicted when
    below it in every seed; a seed without values (D empty) decides nothing."""
    rows = []
    settings = by_setting(runs, rule.get("variant", "pretrain-none"))
    for setting, seed_runs in sorted(settings.items()):
        if not all(_has(run.representation, rule["path"]) for run in seed_runs):
            rows.append((setting, _not_stored(rule["path"])))
            continue
        values = [lookup(run.representation, rule["path"]) for run in seed_runs]
        medians = [float(np.median(v)) if len(v) else float("nan") for v in values]
        holds = [None if np.isnan(m) else m > rule["threshold"] for m in medians]
        seeds = [seed_of(run.group) for run in seed_runs]
        detail = "; ".join(
            f"{seed}: median {m:.3f} of {len(v)} features"
            for seed, m, v in zip(seeds, medians, values, strict=True)
        )
        result = {
            "ours": float(np.nanmean(medians)) if not np.isnan(medians).all() else float("nan"),
            "detail": f"{detail} (threshold {rule['threshold']:.2f})",
        } | per_seed_points(seeds, holds)
        rows.append((setting, result))
    return rows


def _miou_label(setting: str, rule: dict[str, Any]) -> str:
    if rule["compare"] == "core_vs_chance":
        return f"{setting}: {rule['group']} core IoU − core area (chance)"
    if rule["compare"] == "core_vs_spurious":
        return f"{setting}: {rule['group']} core − spurious"
    if rule["compare"] == "correct_vs_misclassified":
        return f"{setting}: core IoU correct − misclassified"
    return f"{setting}: core IoU {rule['treated']} − {rule['control']}"


def miou_verdict(runs: list[Any], rule: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``rule.compare`` (:func:`sslbench.analysis.miou.iou_contrast`): ``core_vs_chance`` (one
    ``group``: core IoU − the core's area fraction, what a uniform heatmap scores),
    ``core_vs_spurious`` (one ``group``), ``correct_vs_misclassified`` (core IoU) or
    ``variants`` (core IoU of ``treated`` − ``control``, paired by seed); replicated when the
    interval of the difference (:func:`sslbench.analysis.miou.pooled_iou_difference`) lies above
    0."""
    rows = []
    variant = rule.get("variant", "pretrain-none")
    settings = by_setting(runs, rule.get("control", variant))
    for setting, control_runs in sorted(settings.items()):
        if rule["compare"] in WITHIN_MODEL:
            controls, treated = control_runs, []
        else:
            treated_runs = by_setting(runs, rule["treated"]).get(setting, [])
            pairs = same_seed_pairs(control_runs, treated_runs)
            controls, treated = [c for c, _ in pairs], [t for _, t in pairs]
        pooled = pooled_iou_difference(
            rule["compare"],
            [run.interpretability for run in controls],
            [run.interpretability for run in treated],
            rule.get("group"),
            rule.get("bootstrap_samples", 1000),
            CONFIDENCE,
            0,
        )
        if pooled is None:
            continue
        diff, (low, high) = pooled["difference"], pooled["interval"]
        result = {
            "ours": diff,
            "detail": f"Δ {diff:+.3f}, CI [{low:+.3f}, {high:+.3f}], n = {pooled['n']}"
            + ("" if pooled["n_other"] is None else f" vs {pooled['n_other']}")
            + f"; per seed {', '.join(f'{d:+.3f}' for d in pooled['per_seed'])}",
            "verdict": ci_above((low, high), 0.0),
        }
        seeds = [d for d in pooled["per_seed"] if np.isfinite(d)]
        if result["verdict"] == INCONCLUSIVE and len(seeds) > 1:
            result["why"] = interval_why(seeds, (0.0,), CONFIDENCE)
        rows.append((_miou_label(setting, rule), result))
    return rows


def evaluate_representation_claim(
    claim: dict[str, Any], runs: list[Any]
) -> list[tuple[str, dict[str, Any]]]:
    """(row label, result) pairs of one representation claim; empty if nothing ran."""
    rule = claim["representation"]
    if rule["kind"] in ("curve_above", "curve_matches"):
        rows = []
        for setting, setting_runs in sorted(
            by_setting(runs, rule.get("variant", "pretrain-none")).items()
        ):
            result = curve_verdict(setting_runs, rule)
            if result is not None:
                rows.append((setting, result))
        return rows
    if rule["kind"] == "less_than":
        return less_than_verdict(runs, rule)
    if rule["kind"] == "ratio_within":
        return ratio_within_verdict(runs, rule)
    if rule["kind"] == "miou":
        return miou_verdict(runs, rule)
    if rule["kind"] == "median_above":
        return median_above_verdict(runs, rule)
    raise ValueError(unknown_kind("representation", rule["kind"]))


def _rank(spectrum: dict[str, Any]) -> str:
    return f"{spectrum['effective_rank']:.2f} / {spectrum['dimension']}"


def spectrum_table(runs: list[Any]) -> pd.DataFrame:
    """Effective rank of h and z (of their dimension) for every model (003 Fig. 1, 3)."""
    return pd.DataFrame(
        [
            {"run": run.group, "model": run.variant}
            | {
                f"effective rank of {space}": _rank(run.representation["spectrum"][space])
                for space in ("h", "z")
            }
            for run in runs
        ]
    ).set_index(["run", "model"])


def interpretability_table(runs: list[Any]) -> pd.DataFrame:
    """mIoU with the core and spurious regions per group of samples (001 Fig. 7)."""
    rows = []
    for run in runs:
        interp = run.interpretability
        if "skipped" in interp:
            rows.append({"run": run.group, "model": run.variant, "group": interp["skipped"]})
            continue
        for group, values in interp["groups"].items():
            rows.append({"run": run.group, "model": run.variant, "group": group} | values)
    return pd.DataFrame(rows).set_index(["run", "model", "group"])
