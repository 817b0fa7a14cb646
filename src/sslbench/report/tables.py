"""Load the pipeline's per-run outputs and build the report's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sslbench.analysis.prediction import changed_share
from sslbench.analysis.resolution import accuracy_resolution
from sslbench.io import read_json
from sslbench.report.claim_kinds import check_claims, claim_unit, decided_by, family_of
from sslbench.report.classwise import evaluate_classwise_claim
from sslbench.report.collapse import evaluate_collapse_claim
from sslbench.report.presentation import configs_running, not_run_detail, why_inconclusive
from sslbench.report.representation import evaluate_representation_claim
from sslbench.report.seeds import (
    by_setting,
    over_seeds,
    pooled_ci_above,
    pooled_paired,
    seeds_label,
    setting_of,
)
from sslbench.report.suppression import evaluate_suppression_claim, non_convergence_note
from sslbench.report.verdicts import did_not_move, evaluate_claim, evaluate_paired_claim


@dataclass(frozen=True)
class RunResult:
    """Everything the pipeline produced for one dataset × method × seed."""

    name: str
    group: str  # dataset/method/seed
    variant: str  # protocol-regulariser, e.g. pretrain-none (the baseline), finetune-qscore
    summary: dict[str, Any]
    evaluation: dict[str, Any]
    history: list[dict[str, float]]
    scores: pd.DataFrame
    representation: dict[str, Any]
    interpretability: dict[str, Any]
    gradcam: str  # path of the heatmap gallery figure
    class_names: tuple[str, ...] = ()  # names of the evaluated target's classes, in label order
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)  # label, correct per sample


def load_runs(runs: list[dict[str, str]]) -> list[RunResult]:
    """``runs``: one dict per run with its name, group, variant and output paths (qscore, eval,
    history, scores, representation, interpretability, gradcam, predictions)."""
    return [
        RunResult(
            name=r["name"],
            group=r["group"],
            variant=r["variant"],
            summary=read_json(r["qscore"]),
            evaluation=read_json(r["eval"]),
            history=read_json(r["history"]),
            scores=pd.read_csv(r["scores"]),
            representation=read_json(r["representation"]),
            interpretability=read_json(r["interpretability"]),
            gradcam=r["gradcam"],
            class_names=_class_names(r),
            predictions=pd.read_csv(r["predictions"]),
        )
        for r in runs
    ]


def _class_names(run: dict[str, str]) -> tuple[str, ...]:
    """The target's class names from the dataset's meta.json (empty where it is not given)."""
    if "meta" not in run or not Path(run["meta"]).exists():
        return ()
    target = read_json(run["eval"])["target"]
    return tuple(str(name) for name in read_json(run["meta"])["classes"].get(target, ()))


def load_claims(path: str | Path) -> dict[str, Any]:
    """The claims registry, each claim checked against :mod:`sslbench.report.claim_kinds`."""
    registry = yaml.safe_load(Path(path).read_text())
    check_claims(registry["claims"])
    return registry


def _claim_row(claim: dict[str, Any], run: str, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": claim.get("id", ""),
        "paper": claim["paper"],
        "where": claim["where"],
        "claim": claim["statement"],
        "paper's value": claim["paper_value"],
        "run": run,
        "ours": round(result["ours"], 4),
        "unit": claim_unit(claim),
        "decided by": result.get("decided by", decided_by(claim)),
        "evidence": result["detail"],
        "per seed": result.get("seeds", ""),
        "seeds agree": result.get("agreement", ""),
        "verdict": result["verdict"],
        "why inconclusive": why_inconclusive(claim, result),
    }


def claims_table(
    claims: list[dict[str, Any]],
    runs: list[RunResult],
    collapse: dict[str, list[dict[str, Any]]] | None = None,
    suppression: pd.DataFrame | None = None,
    movement: dict[str, Any] | None = None,
    config_dir: Path | None = None,
    learning: dict[str, Any] | None = None,
    resolution: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per claim × setting (dataset/method, its seeds pooled and each seed's verdict
    shown: :mod:`sslbench.report.seeds`): the paper's number, ours, and the verdict.

    Single-model claims apply to the runs of ``claim["variant"]`` (default: the baseline
    pretrain-none); paired claims (``compare``) to every group holding both variants;
    ``collapse`` claims to 002's controlled experiments; ``representation`` claims to the
    per-model analyses (:mod:`sslbench.report.representation`); ``suppression`` claims to 004's
    sweep (:mod:`sslbench.report.suppression`); ``pending`` claims (a measurement the pipeline
    does not make yet) read "not run" with their reason. ``movement`` (the registry's block)
    makes a paired claim on a model that did not move from its start inconclusive; ``learning``
    (the registry's block) leaves out every model whose linear probe is at chance, and a claim
    left with no row by that is inconclusive, naming them; ``resolution`` (the registry's
    block) makes an accuracy claim whose minimal effect is below the run's resolution
    inconclusive, naming the resolution and a config that can decide it. Any other
    claim with no row is "not run", naming the files of ``config_dir`` that run it; a
    suppression claim's evidence flags readouts whose lbfgs fits did not converge.
    """
    rows: list[dict[str, Any]] = []
    did_not_learn = {run.name: why for run in runs if (why := not_learned(run, learning))}
    every_run, runs = runs, [run for run in runs if run.name not in did_not_learn]
    by_key = {(run.group, run.variant): run for run in runs}
    for claim in claims:
        before, family = len(rows), family_of(claim)
        if family == "pending":
            pass
        elif family == "collapse":
            result = evaluate_collapse_claim(claim, collapse or {})
            if result is not None:
                rows.append(_claim_row(claim, "002 controlled experiments", result))
        elif family == "suppression":
            sweep = pd.DataFrame() if suppression is None else suppression
            result = evaluate_suppression_claim(claim, sweep)
            if result is not None:
                note = non_convergence_note(sweep, claim["suppression"]["factor"])
                result = result | {"detail": "; ".join(filter(None, (result["detail"], note)))}
                rows.append(_claim_row(claim, "004 feature-suppression sweep", result))
        elif family == "representation":
            for label, result in evaluate_representation_claim(claim, runs):
                rows.append(_claim_row(claim, label, result))
        elif family == "compare":
            limits = Limits(movement, resolution, config_dir)
            _add_paired_rows(claim, by_key, rows, limits)
        else:
            _add_claim_rows(claim, runs, rows)
        left_out = [
            f"{run.name} {did_not_learn[run.name]}"
            for run in every_run
            if run.name in did_not_learn and run.variant in claim_variants(claim)
        ]
        if left_out and len(rows) == before:
            rows.append(_claim_row(claim, "—", unlearned(left_out)))
        elif left_out:
            for row in rows[before:]:
                row["evidence"] += f" (left out, did not learn: {'; '.join(left_out)})"
        elif len(rows) == before:
            produced = _produced(runs, collapse, suppression)
            rows.append(_claim_row(claim, "—", not_run(claim, config_dir, produced)))
    return pd.DataFrame(rows)


def not_learned(run: RunResult, learning: dict[str, Any] | None) -> str | None:
    """Why ``run`` cannot test a claim — its linear probe is within ``learning``'s
    ``min_above_chance`` of chance (1 / classes) — or None. A collapsed model (every sample
    one class) says nothing about what a regulariser does to representations."""
    if learning is None or not run.class_names:
        return None
    chance = 1.0 / len(run.class_names)
    accuracy = float(run.evaluation["linear_probe_accuracy"])
    if accuracy >= chance + float(learning["min_above_chance"]):
        return None
    return f"(linear accuracy {accuracy:.1%}, chance {chance:.1%})"


def unlearned(left_out: list[str]) -> dict[str, Any]:
    """The result of a claim whose every model of some variant did not learn: never decided."""
    return {
        "ours": float("nan"),
        "detail": "inconclusive — a model did not learn: " + "; ".join(left_out),
        "verdict": "inconclusive",
        "why": "a model the claim compares did not learn (linear accuracy at chance)",
    }


def claim_variants(claim: dict[str, Any]) -> set[str]:
    """The model variants a claim reads (the baseline pretrain-none unless it names others)."""
    if "compare" in claim:
        return {claim["compare"]["treated"], claim["compare"]["control"]}
    rule = claim.get("representation", {})
    named = {rule[side]["variant"] for side in ("a", "b") if isinstance(rule.get(side), dict)}
    named |= {rule[key] for key in ("treated", "control", "variant") if key in rule}
    return named or {claim.get("variant", "pretrain-none")}


def _produced(
    runs: list[RunResult],
    collapse: dict[str, list[dict[str, Any]]] | None,
    suppression: pd.DataFrame | None,
) -> set[str]:
    """Model variants and experiments this config produced (names of ``not_run_detail``)."""
    sweep = set() if suppression is None or suppression.empty else {"suppression"}
    return {run.variant for run in runs} | {f"collapse:{s}" for s in collapse or {}} | sweep


def not_run(
    claim: dict[str, Any], config_dir: Path | None = None, produced: set[str] | None = None
) -> dict[str, Any]:
    """The result of a claim that got no row: what it lacks and which config supplies it."""
    return {
        "ours": float("nan"),
        "detail": not_run_detail(claim, config_dir, produced or set()),
        "verdict": "not run",
    }


def moved(
    treated: RunResult, reference: RunResult | None, movement: dict[str, Any] | None
) -> dict[str, Any] | None:
    """None when ``treated`` changed at least ``min_changed_predictions`` of its test
    predictions from ``reference`` (or there is no registry block), else the "did not move"
    result."""
    if movement is None or reference is None:
        return None
    changed = changed_share(
        treated.scores["prediction"].to_numpy(), reference.scores["prediction"].to_numpy()
    )
    threshold = float(movement["min_changed_predictions"])
    return did_not_move(changed, threshold) if changed < threshold else None


def reference_variant(treated: str, control: str, movement: dict[str, Any] | None) -> str | None:
    """What a treated model must have moved from: the model a fine-tune started from
    (``movement.start`` for the ``movement.protocols``), else the control it is compared with
    (a from-scratch regulariser whose predictions equal the control's had no effect to test)."""
    if movement is None:
        return None
    return movement["start"] if treated.split("-")[0] in movement["protocols"] else control


def _paired_result(claim: dict[str, Any], pairs: list[tuple[RunResult, RunResult]]) -> dict:
    """The claim's result over (treated, control) runs: one seed's paired bootstrap, or the
    pooled two-level one over several seeds (:mod:`sslbench.report.seeds`); 000 Fig. 6's
    class-wise claim by :mod:`sslbench.report.classwise`."""
    if "classwise" in claim:
        return evaluate_classwise_claim(claim, pairs)
    outcome = claim["compare"].get("outcome", "correct")
    columns = [(a.scores[outcome].to_numpy(), b.scores[outcome].to_numpy()) for a, b in pairs]
    if len(columns) == 1:
        return evaluate_paired_claim(claim, *columns[0])
    return pooled_paired(claim, columns)


@dataclass(frozen=True)
class Limits:
    """The registry's limits on what a paired claim's run can decide: ``movement`` (a treated
    model must have moved), ``resolution`` (an accuracy effect must not be below the run's
    resolution) and the configs that run a claim (``config_dir``) to name instead."""

    movement: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None
    config_dir: Path | None = None


def beyond_resolution(
    claim: dict[str, Any], controls: list[RunResult], limits: Limits
) -> dict[str, Any] | None:
    """The result of an accuracy claim whose minimal effect lies below the run's resolution
    (:mod:`sslbench.analysis.resolution`, from the ``controls``' accuracies), else None: such a
    run cannot decide the claim whatever its interval says. Claims on other outcomes, and 000
    Fig. 6's class-wise claim (its own split of the test set), are not limited."""
    block = limits.resolution
    metric = (
        None if block is None else block["outcomes"].get(claim["compare"].get("outcome", "correct"))
    )
    if metric is None or "classwise" in claim:
        return None
    accuracies = [float(run.evaluation[metric]) for run in controls]
    found = accuracy_resolution(accuracies, len(controls[0].scores), float(block["confidence"]))
    minimal = float(claim["rule"]["min_effect"])
    if minimal >= found.value:
        return None
    configs = [] if limits.config_dir is None else configs_running(claim, limits.config_dir)
    larger = [c for c in configs if c.startswith(block["configs_under"])]
    remedy = f"run {' or '.join(larger)} with more seeds" if larger else "run more seeds"
    return {
        "verdict": "inconclusive",
        "why": (
            f"beyond this run's resolution: the minimal effect {100 * minimal:.2f} points is "
            f"below the resolution {100 * found.value:.2f} points ({found.source}) — {remedy}"
        ),
    }


def _add_paired_rows(
    claim: dict[str, Any],
    by_key: dict[tuple[str, str], RunResult],
    rows: list[dict[str, Any]],
    limits: Limits,
) -> None:
    """Paired claims, one row per setting (dataset/method) holding both variants, pooled over
    its seeds (:mod:`sslbench.report.seeds`) from the seeds whose treated model moved; an
    accuracy claim below the setting's resolution is left undecided
    (:func:`beyond_resolution`)."""
    treated, control = claim["compare"]["treated"], claim["compare"]["control"]
    reference = reference_variant(treated, control, limits.movement)
    paired = sorted({g for g, v in by_key if v == treated} & {g for g, v in by_key if v == control})
    for setting in sorted({setting_of(g) for g in paired}):
        groups = [g for g in paired if setting_of(g) == setting]
        results, pairs = [], []
        for group in groups:
            pair = (by_key[group, treated], by_key[group, control])
            still = moved(pair[0], by_key.get((group, reference)), limits.movement)
            results.append(still or _paired_result(claim, [pair]))
            if still is None:
                pairs.append(pair)
        pooled = _paired_result(claim, pairs) if len(groups) > 1 and pairs else None
        if pooled is not None and len(pairs) < len(groups):
            pooled["detail"] += f" (the {len(pairs)} of {len(groups)} seeds whose model moved)"
        result = over_seeds(groups, results, pooled)
        limit = beyond_resolution(claim, [by_key[g, control] for g in groups], limits)
        if pairs and limit is not None:
            result = result | limit
        rows.append(_claim_row(claim, f"{seeds_label(groups)}: {treated} vs {control}", result))


def _add_claim_rows(
    claim: dict[str, Any], runs: list[RunResult], rows: list[dict[str, Any]]
) -> None:
    """Single-model claims, one row per setting (dataset/method) pooled over its seeds
    (:mod:`sslbench.report.seeds`): at the configured (paper's) ε and, for claims marked
    ``at_selected``, at the ε × window each seed selected on its validation split."""
    for seed_runs in by_setting(runs, claim.get("variant", "pretrain-none")).values():
        groups = [run.group for run in seed_runs]
        results = [evaluate_claim(claim, run.summary, run.scores) for run in seed_runs]
        poolable = claim["rule"]["kind"] == "ci_above" and len(seed_runs) > 1
        pooled = (
            pooled_ci_above(claim, [r.summary for r in seed_runs], [r.scores for r in seed_runs])
            if poolable and not any(np.isnan(r["ours"]) for r in results)
            else None
        )
        label = f"{seeds_label(groups)}/{seed_runs[0].variant}"
        rows.append(_claim_row(claim, label, over_seeds(groups, results, pooled)))
        if claim.get("at_selected"):
            _add_selected_row(claim, seed_runs, label, rows)


def _add_selected_row(
    claim: dict[str, Any], seed_runs: list[RunResult], label: str, rows: list[dict[str, Any]]
) -> None:
    """The claim at the ε × window each seed selected on its validation split (the seeds'
    unanimous verdict where there are several: each seed has its own ε)."""
    chosen = [
        (run, run.summary["selected"])
        for run in seed_runs
        if run.summary.get("selected") is not None and "skipped" not in run.summary["selected"]
    ]
    if not chosen:
        return
    choices = "; ".join(
        f"ε = {s['epsilon']:g}, window {s['lower_percentile']:g}–{s['upper_percentile']:g} "
        f"(validation AUROC {s['validation']['auroc']:.3f})"
        for _, s in chosen
    )
    results = [evaluate_claim(claim, selected) for _, selected in chosen]
    groups = [run.group for run, _ in chosen]
    rows.append(
        _claim_row(claim, f"{label} at selected {choices}", over_seeds(groups, results, None))
    )


def regulariser_table(runs: list[RunResult]) -> pd.DataFrame:
    """Baseline vs every regulariser (001 Table 1 style): accuracy, k-NN, Q-Score AUROC/AUPRC
    and sparsity of each model, and its accuracy change against its protocol's control (none
    for the controls themselves: they are what the others are compared with)."""
    control = {
        (run.group, run.variant.split("-")[0]): run for run in runs if run.variant.endswith("-none")
    }
    rows = []
    for run in runs:
        protocol = run.variant.split("-")[0]
        base = control.get((run.group, protocol))
        accuracy = run.evaluation["linear_probe_accuracy"]
        is_control = run.variant.endswith("-none")
        rows.append(
            {
                "run": run.group,
                "model": run.variant,
                "role": _role(run.variant),
                "linear probe accuracy": accuracy,
                "Δ vs control": accuracy - base.evaluation["linear_probe_accuracy"]
                if base is not None and not is_control
                else float("nan"),
                "k-NN accuracy": run.evaluation["knn_accuracy"],
                "Q-Score AUROC": run.summary["metrics"]["q_score"]["auroc"],
                "Q-Score AUPRC": run.summary["metrics"]["q_score"]["auprc"],
                "sparsity of h (%)": run.summary["sparsity_percent"],
            }
        )
    return pd.DataFrame(rows).set_index(["run", "model"]).sort_index()


def _role(variant: str) -> str:
    """A model's part in the regulariser comparisons: baseline, a protocol's control, or
    regularised."""
    protocol, _, regulariser = variant.partition("-")
    if regulariser != "none":
        return "regularised"
    if protocol == "pretrain":
        return "baseline (control of pretrain-*)"
    return f"control of {protocol}-*"


def qscore_table(
    runs: list[RunResult], reference: dict[str, dict[str, dict[str, float]]]
) -> pd.DataFrame:
    """AUROC / AUPRC of every score for every run, next to the papers' numbers."""
    metrics = list(runs[0].summary["metrics"]) if runs else []
    table = pd.DataFrame(index=pd.Index(metrics, name="score"))
    for run in runs:
        for stat in ("auroc", "auprc"):
            table[f"{run.name} {stat.upper()}"] = [run.summary["metrics"][m][stat] for m in metrics]
    for source, values in reference.items():
        for stat in ("auroc", "auprc"):
            table[f"{source} {stat.upper()}"] = [
                values.get(m, {}).get(stat, float("nan")) for m in metrics
            ]
    return table


def accuracy_table(runs: list[RunResult]) -> pd.DataFrame:
    """Linear-probe and k-NN accuracy, share correct, sparsity and final loss per run."""
    return pd.DataFrame(
        [
            {
                "run": run.name,
                "target": run.evaluation["target"],
                "linear probe accuracy": run.evaluation["linear_probe_accuracy"],
                "k-NN accuracy": run.evaluation["knn_accuracy"],
                "sparsity of h (%)": run.summary["sparsity_percent"],
                "|D| / dim": f"{run.summary['n_discriminative_features']}"
                f" / {run.summary['representation_dim']}",
                "final train loss": run.history[-1]["loss"],
            }
            for run in runs
        ]
    ).set_index("run")


def epsilon_grid_table(runs: list[RunResult]) -> pd.DataFrame:
    """Q-Score v2 on the test split at every ε × window (|D|, share of samples with
    L_i ∩ D = ∅, AUROC, AUPRC), marking the paper's setting and the one chosen on validation."""
    rows = []
    for run in runs:
        summary = run.summary
        if "epsilon_grid" not in summary:
            continue
        chosen = summary["selected"]
        pick = tuple(chosen.get(k) for k in ("epsilon", "lower_percentile", "upper_percentile"))
        for row in summary["epsilon_grid"]:
            key = (row["epsilon"], row["lower_percentile"], row["upper_percentile"])
            rows.append({"run": run.name} | row | {"selected on validation": key == pick})
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).set_index(["run", "epsilon", "lower_percentile", "upper_percentile"])
