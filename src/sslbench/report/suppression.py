"""Tables, figures' data and claim verdicts of 004's feature-suppression sweep (Fig. 2, 3, 6).

Every sweep encoder wrote one readout JSON (``sslbench.stages.suppression``). Verdicts use
intervals over seeds or encoders (computed in :mod:`sslbench.analysis.intervals`): a Student-t
interval of paired differences (same seed), or the 95 % interval of Pearson's r (Fisher
transform, scipy) for Fig. 2's loss–error correlation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sslbench.analysis.intervals import pearson_interval
from sslbench.io import read_json
from sslbench.report.seeds import t_interval_verdict
from sslbench.report.verdicts import CONTRADICTED, INCONCLUSIVE, REPLICATED, ci_above

CONFIDENCE = 0.95
#: Column prefix: readout fits (folds) of a factor that stopped before lbfgs converged.
NOT_CONVERGED = "not_converged_"


def load_suppression(jobs: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per encoder: τ, regulariser, seed, held-out InfoNCE and each factor's accuracy."""
    rows = []
    for job in jobs:
        result = read_json(job["path"])
        rows.append(
            {
                "dataset": job["dataset"],
                "tau": float(job["tau"]),
                "regulariser": job["regulariser"],
                "seed": job["seed"],
                "infonce_loss": result["infonce_loss"],
            }
            | {factor: v["accuracy"] for factor, v in result["readout"].items()}
            | {
                f"{NOT_CONVERGED}{factor}": v.get("not_converged_fits", 0)
                for factor, v in result["readout"].items()
            }
        )
    return pd.DataFrame(rows)


def factors(table: pd.DataFrame) -> list[str]:
    return [
        c
        for c in table.columns
        if c not in ("dataset", "tau", "regulariser", "seed", "infonce_loss")
        and not c.startswith(NOT_CONVERGED)
    ]


def readout_table(table: pd.DataFrame) -> pd.DataFrame:
    """004 Fig. 3 / 6 as a table: mean ± std readout accuracy over seeds per τ × regulariser."""
    grouped = table.groupby(["dataset", "tau", "regulariser"])
    out = pd.DataFrame(
        {
            factor: grouped[factor].agg(lambda v: f"{v.mean():.3f} ± {v.std(ddof=0):.3f}")
            for factor in [*factors(table), "infonce_loss"]
        }
    )
    out["seeds"] = grouped.size()
    flagged = [c for c in table.columns if c.startswith(NOT_CONVERGED)]
    out["readout fits not converged (lbfgs)"] = grouped[flagged].sum().sum(axis=1).astype(int)
    return out


def non_convergence_note(table: pd.DataFrame, factor: str) -> str:
    """A warning for the evidence of claims on ``factor``'s readouts when some of their fits
    stopped at max_iter before lbfgs converged; empty when all converged."""
    column = f"{NOT_CONVERGED}{factor}"
    if table.empty or column not in table:
        return ""
    fits = int(table[column].sum())
    if fits == 0:
        return ""
    encoders = int((table[column] > 0).sum())
    return (
        f"⚠ {factor} readout: lbfgs did not converge in {fits} fit(s) of {encoders} of "
        f"{len(table)} encoders (raise suppression.readout.max_iter)"
    )


def correlation(table: pd.DataFrame, factor: str) -> dict[str, float]:
    """Pearson r between held-out InfoNCE loss and ``factor``'s readout error over encoders."""
    loss, error = table["infonce_loss"].to_numpy(), 1.0 - table[factor].to_numpy()
    return pearson_interval(loss, error, CONFIDENCE)


def paired_differences(table: pd.DataFrame, factor: str, rule: dict[str, Any]) -> np.ndarray:
    """Per-seed differences of ``factor``'s accuracy that a rule compares (``factor_above``: the
    same encoder's readout of ``factor`` minus that of ``other``, every encoder)."""
    if rule["kind"] == "factor_above":
        if rule["other"] not in table:
            return np.zeros(0)
        return (table[factor] - table[rule["other"]]).dropna().to_numpy()
    if rule["kind"] == "temperature_tradeoff":
        plain = table[table["regulariser"] == "none"]
        low_tau, high_tau = plain["tau"].min(), plain["tau"].max()
        by_tau = plain.set_index(["tau", "seed"])[factor]
        if low_tau == high_tau:
            return np.zeros(0)
        diff = by_tau.loc[high_tau] - by_tau.loc[low_tau]
        return (diff if rule["better"] == "high" else -diff).dropna().to_numpy()
    raise ValueError(f"suppression rule {rule['kind']!r} has no per-seed differences")


def ifm_differences(table: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    """Per (τ, seed): ``rule["factor"]``'s readout accuracy of the ``treated`` (IFM) encoder
    minus that of the plain one trained at the same τ and seed."""
    if not {"none", rule["treated"]} <= set(table["regulariser"]):
        return pd.Series(dtype=float)
    by_reg = table.set_index(["regulariser", "tau", "seed"])[rule["factor"]]
    return (by_reg.loc[rule["treated"]] - by_reg.loc["none"]).dropna()


def ifm_at_every_temperature(table: pd.DataFrame, rule: dict[str, Any]) -> dict[str, Any] | None:
    """004 Fig. 6: IFM improves the readout "at every temperature" — decided at each τ on the
    Student-t interval of its seeds' paired differences against ``min_effect``: replicated
    when every τ replicates, contradicted when some τ contradicts, else inconclusive (a gain at
    one τ never hides a loss at another). "ours" is the smallest per-τ mean gain."""
    diffs = ifm_differences(table, rule)
    if diffs.empty:
        return None
    minimal = float(rule["min_effect"])
    per_tau = {
        tau: t_interval_verdict(d.to_numpy(), "improves", minimal, CONFIDENCE)
        for tau, d in diffs.groupby(level="tau")
    }
    verdicts = {result["verdict"] for _, result in per_tau.values()}
    verdict = (
        REPLICATED
        if verdicts == {REPLICATED}
        else CONTRADICTED
        if CONTRADICTED in verdicts
        else INCONCLUSIVE
    )
    parts = [
        f"τ {tau:g}: Δ {result['ours']:+.4f}, "
        + (f"[{low:+.4f}, {high:+.4f}]" if np.isfinite(low) else "one seed, no interval")
        + f" {result['verdict']}"
        for tau, ((low, high), result) in per_tau.items()
    ]
    out = {
        "ours": min(result["ours"] for _, result in per_tau.values()),
        "detail": f"per τ, 95 % t-interval over seeds vs minimal effect {minimal:.3f}: "
        + "; ".join(parts),
        "verdict": verdict,
    }
    if verdict == INCONCLUSIVE:
        out["why"] = "some temperature's interval contains the minimal effect or has one seed"
    return out


def evaluate_suppression_claim(claim: dict[str, Any], table: pd.DataFrame) -> dict[str, Any] | None:
    """Our value and verdict of a suppression claim; None if the sweep did not run it."""
    rule = claim["suppression"]
    if table.empty or rule["factor"] not in table:
        return None
    if rule["kind"] == "correlation":
        settings = len(table[["tau", "regulariser"]].drop_duplicates())
        if settings < rule["min_settings"]:
            return {
                "ours": float("nan"),
                "detail": (
                    f"inconclusive — {settings} hyper-parameter setting(s) (τ × regulariser) "
                    f"across {len(table)} encoders, fewer than {rule['min_settings']}: r would "
                    "restate the between-setting (temperature) difference"
                ),
                "verdict": INCONCLUSIVE,
                "why": f"fewer than {rule['min_settings']} settings (τ × regulariser): no r",
            }
        c = correlation(table, rule["factor"])
        sign = -1.0 if rule["sign"] == "negative" else 1.0
        interval = (sign * c["low"], sign * c["high"]) if sign > 0 else (-c["high"], -c["low"])
        verdict = INCONCLUSIVE if np.isnan(c["r"]) else ci_above(interval, 0.0)
        detail = (
            f"Pearson r {c['r']:+.3f}, CI [{c['low']:+.3f}, {c['high']:+.3f}], {c['n']} encoders"
        )
        return {"ours": c["r"], "detail": detail, "verdict": verdict}
    if rule["kind"] == "ifm_improves":
        return ifm_at_every_temperature(table, rule)
    diffs = paired_differences(table, rule["factor"], rule)
    if diffs.size == 0:
        return None
    minimal = float(rule["min_effect"])
    (low, high), result = t_interval_verdict(diffs, "improves", minimal, CONFIDENCE, unit="pairs")
    interval = (
        f"95 % t-interval [{low:+.4f}, {high:+.4f}]"
        if np.isfinite(low)
        else "no interval (one seed)"
    )
    detail = (
        f"Δ accuracy {result['ours']:+.4f}, {interval}, {diffs.size} pair(s), minimal effect"
        f" {minimal:.3f}"
    )
    return result | {"detail": detail}
