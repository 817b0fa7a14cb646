"""Tables, figures and claim verdicts of 002's controlled experiments (collapse jobs).

Each collapse job (one setting, one seed) wrote one JSON (see ``sslbench.stages.collapse``);
here they are gathered per setting, summarised over seeds (mean ± std) and compared.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from sslbench.io import read_json
from sslbench.report.claim_kinds import unknown_kind
from sslbench.report.seeds import per_seed_points
from sslbench.report.verdicts import lookup

LOSS_TERMS = ("align", "uniform", "total")


def load_collapse(jobs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``jobs``: dicts with ``setting``, ``seed`` and ``path`` → {setting: [result per seed]}."""
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in sorted(jobs, key=lambda j: (j["setting"], j["seed"])):
        results[job["setting"]].append(read_json(job["path"]) | {"seed": job["seed"]})
    return dict(results)


def loss_table(results: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """002 Table 1: L_align, L_uniform and L_CL of f = g⁻¹ and of the trained f, mean ± std
    over seeds, for every nonlinear setting."""
    rows = []
    for setting, runs in results.items():
        if runs[0]["params"]["experiment"] != "nonlinear":
            continue
        for model in ("inverse", "trained"):
            row = {"setting": setting, "model": "f = g⁻¹" if model == "inverse" else "trained f"}
            for term in LOSS_TERMS:
                values = np.array([run["loss"][model][term] for run in runs])
                row[f"L_{term}"] = f"{values.mean():.2f} ± {values.std():.2f}"
            row["seeds"] = len(runs)
            rows.append(row)
    return pd.DataFrame(rows)


def spectra(results: dict[str, list[dict[str, Any]]]) -> dict[str, np.ndarray]:
    """Mean normalised singular values of the trained linear W per linear setting (Fig. 1 left)."""
    return {
        setting: np.mean([run["spectrum"]["weight"] for run in runs], axis=0)
        for setting, runs in results.items()
        if runs[0]["params"]["experiment"] == "linear"
    }


def readouts(results: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, np.ndarray]]:
    """Mean adjusted R² of content and style per layer per nonlinear setting (Fig. 1 middle)."""
    out = {}
    for setting, runs in results.items():
        if runs[0]["params"]["experiment"] != "nonlinear":
            continue
        out[setting] = {
            "layers": runs[0]["readout"]["layers"],
            **{
                kind: np.mean([run["readout"][kind] for run in runs], axis=0)
                for kind in ("content", "style")
                if runs[0]["readout"][kind] is not None
            },
        }
    return out


def evaluate_collapse_claim(
    claim: dict[str, Any], results: dict[str, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    """Our value and verdict of a claim on the collapse jobs; None if its settings did not run.

    Rule kinds: ``less_than`` (value ``a`` < value ``b`` in each seed; ``a`` and ``b`` name a
    setting and a dotted path into its JSON) and ``last_layer_drop`` (in each seed the last
    layer loses more of the quantity at ``path`` than all earlier layers together).
    """
    rule = claim["collapse"]
    if rule["kind"] == "less_than":
        a, b = rule["a"], rule["b"]
        if a["setting"] not in results or b["setting"] not in results:
            return None
        pairs = list(zip(results[a["setting"]], results[b["setting"]], strict=True))
        values = [(float(lookup(x, a["path"])), float(lookup(y, b["path"]))) for x, y in pairs]
        ours = np.mean([x for x, _ in values])
        detail = "; ".join(
            f"seed {x['seed']}: {u:.3f} vs {v:.3f}"
            for (x, _), (u, v) in zip(pairs, values, strict=True)
        )
        seeds = [f"seed{x['seed']}" for x, _ in pairs]
        holds = [u < v for u, v in values]
        return {"ours": float(ours), "detail": detail} | per_seed_points(seeds, holds)
    if rule["kind"] == "last_layer_drop":
        if rule["setting"] not in results:
            return None
        holds, drops, seeds = [], [], []
        for run in results[rule["setting"]]:
            seeds.append(f"seed{run['seed']}")
            r2 = np.asarray(lookup(run, rule["path"]), dtype=float)
            last, earlier = r2[-2] - r2[-1], r2[0] - r2[-2]
            holds.append(last > earlier)
            drops.append(last)
        detail = f"last-layer drop per seed: {', '.join(f'{d:.3f}' for d in drops)}"
        return {"ours": float(np.mean(drops)), "detail": detail} | per_seed_points(seeds, holds)
    raise ValueError(unknown_kind("collapse", rule["kind"]))
