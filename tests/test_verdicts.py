import pytest

from sslbench.report.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    REPLICATED,
    ci_above,
    evaluate_claim,
)


@pytest.mark.parametrize(
    ("interval", "verdict"),
    [((0.55, 0.7), REPLICATED), ((0.3, 0.45), CONTRADICTED), ((0.45, 0.6), INCONCLUSIVE)],
)
def test_ci_above(interval, verdict):
    assert ci_above(interval, 0.5) == verdict


def test_non_inferior():
    from sslbench.report.verdicts import non_inferior

    close = {"a": (-0.005, 0.02), "b": (0.01, 0.05)}
    assert non_inferior((0.65, 0.7), 0.58, close, 0.01) == REPLICATED
    assert non_inferior((0.65, 0.7), 0.58, {"a": (-0.06, -0.02)}, 0.01) == CONTRADICTED
    assert non_inferior((0.65, 0.7), 0.58, {"a": (-0.03, 0.01)}, 0.01) == INCONCLUSIVE
    # a score at chance is never "at least as good" in a sense that replicates the claim
    assert non_inferior((0.49, 0.53), 0.58, close, 0.01) == INCONCLUSIVE
    assert non_inferior((0.49, 0.53), 0.58, {"a": (-0.06, -0.02)}, 0.01) == CONTRADICTED


def _summary(q_auprc_ci, share):
    return {
        "share_correct": share,
        "metrics": {
            "q_score": {
                "auroc": 0.6,
                "auprc": 0.7,
                "auroc_ci": [0.55, 0.65],
                "auprc_ci": q_auprc_ci,
            }
        },
    }


def test_share_correct_threshold_comes_from_the_data():
    claim = {
        "score": "q_score",
        "stat": "auprc",
        "rule": {"kind": "ci_above", "threshold": "share_correct", "margin": 0.05},
    }
    assert evaluate_claim(claim, _summary([0.6, 0.8], 0.5))["verdict"] == REPLICATED
    assert evaluate_claim(claim, _summary([0.6, 0.8], 0.9))["verdict"] == CONTRADICTED
    # above a random score's AUPRC, but by less than the minimal lift: not a predictor
    assert evaluate_claim(claim, _summary([0.52, 0.54], 0.5))["verdict"] == CONTRADICTED
    assert evaluate_claim(claim, _summary([0.53, 0.58], 0.5))["verdict"] == INCONCLUSIVE


def _registry(repo):
    import yaml

    return yaml.safe_load((repo / "workflow" / "report" / "claims.yaml").read_text())


def _auroc_summary(ci):
    return {"share_correct": 0.5, "metrics": {"q_score": {"auroc": sum(ci) / 2, "auroc_ci": ci}}}


@pytest.mark.parametrize(
    ("ci", "verdict"),
    [
        ((0.70, 0.76), REPLICATED),  # clear effect, as 001's 73.26
        ((0.40, 0.46), CONTRADICTED),  # reversed
        ((0.502, 0.522), CONTRADICTED),  # chance, tight: the GPU run's 0.512 [0.502, 0.522]
        ((0.56, 0.64), INCONCLUSIVE),
    ],
)
def test_auroc_claims_need_the_minimal_auroc(repo, ci, verdict):
    claim = next(c for c in _registry(repo)["claims"] if c["id"] == "qscore-v2-auroc")
    assert claim["rule"]["threshold"] > 0.5 and claim["reason"]
    assert evaluate_claim(claim, _auroc_summary(list(ci)))["verdict"] == verdict


def test_every_predicts_and_improves_claim_states_a_minimal_effect(repo):
    for claim in _registry(repo)["claims"]:
        rule = claim.get("rule", {})
        if rule.get("kind") == "ci_above":
            assert (
                rule["threshold"] == "share_correct"
                and rule["margin"] > 0
                or (rule["threshold"] > 0.5)
            ), claim["id"]
        if "compare" in claim:
            assert "min_effect" in rule and claim["reason"], claim["id"]


def test_unknown_rule_is_an_error():
    claim = {"score": "q_score", "stat": "auroc", "rule": {"kind": "vibes"}}
    with pytest.raises(ValueError, match="unknown kind 'vibes' of a rule rule; allowed ci_above"):
        evaluate_claim(claim, _summary([0.6, 0.8], 0.5))


@pytest.mark.slow  # bootstraps every Q-Score claim of the registry
def test_registry_claims_all_evaluate(repo):
    import yaml

    registry = yaml.safe_load((repo / "workflow" / "report" / "claims.yaml").read_text())
    metrics = {
        name: {"auroc": 0.6, "auprc": 0.7, "auroc_ci": [0.5, 0.7], "auprc_ci": [0.6, 0.8]}
        for name in [
            "q_score",
            "q_score_v1",
            "mean",
            "std",
            "soft_sparsity",
            "l1_norm",
            "z_score_max",
        ]
    }
    # Q-Score claims on one model's scores; the other kinds have their own tests
    # (test_report_analyses.py, the paired and collapse claims below).
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    scores = pd.DataFrame({name: rng.normal(size=60) for name in metrics})
    scores["correct"] = np.arange(60) % 2 == 0
    single = [c for c in registry["claims"] if "score" in c]
    assert single and len(single) < len(registry["claims"])
    for claim in single:
        result = evaluate_claim(claim, {"metrics": metrics, "share_correct": 0.5}, scores)
        assert result["verdict"] in {REPLICATED, CONTRADICTED, INCONCLUSIVE}


def test_paired_claims_use_the_same_samples():
    import numpy as np

    from sslbench.report.verdicts import evaluate_paired_claim

    control = np.array([True, False] * 200)
    better = control.copy()
    better[1::4] = True  # fixes half of the control's mistakes
    claim = {"rule": {"kind": "improves", "min_effect": 0.0}}
    assert evaluate_paired_claim(claim, better, control)["verdict"] == REPLICATED
    assert evaluate_paired_claim(claim, control, better)["verdict"] == CONTRADICTED
    assert evaluate_paired_claim(claim, control, control)["verdict"] == INCONCLUSIVE
    lasso = {"rule": {"kind": "degrades", "min_effect": 0.0}}
    assert evaluate_paired_claim(lasso, better, control)["verdict"] == CONTRADICTED
    assert evaluate_paired_claim(lasso, control, better)["verdict"] == REPLICATED


SPARSEHEAD_CLAIM = {
    "paper": "003",
    "where": "Table 1",
    "statement": "s",
    "paper_value": "v",
    "compare": {"treated": "pretrain-sparsehead", "control": "pretrain-none"},
    "rule": {"kind": "improves", "min_effect": 0.0},
}


def test_claims_without_their_models_are_listed_as_not_run():
    from sslbench.report.tables import claims_table

    claim = SPARSEHEAD_CLAIM
    table = claims_table([claim], [])
    assert table["verdict"].tolist() == ["not run"]


def test_paired_claims_compare_the_outcome_they_name():
    import numpy as np
    import pandas as pd

    from sslbench.report.tables import RunResult, claims_table

    control = np.array([True, False] * 200)
    better = control.copy()
    better[1::4] = True

    def run(variant, linear, knn):
        scores = pd.DataFrame({"correct": linear, "knn_correct": knn})
        return RunResult(variant, "d/simclr/seed0", variant, {}, {}, [], scores, {}, {}, "")

    # SparseHead is better by k-NN and worse by the linear probe.
    runs = [run("pretrain-none", better, control), run("pretrain-sparsehead", control, better)]
    claim = SPARSEHEAD_CLAIM
    knn_claim = {**claim, "compare": {**claim["compare"], "outcome": "knn_correct"}}
    verdicts = claims_table([claim, knn_claim], runs)["verdict"].tolist()
    assert verdicts == [CONTRADICTED, REPLICATED]


def _collapse_result(seed, trained, inverse, style):
    return {
        "seed": seed,
        "params": {"experiment": "nonlinear"},
        "loss": {"trained": {"total": trained}, "inverse": {"total": inverse}},
        "readout": {"style": style},
    }


def test_collapse_claims_need_every_seed():
    from sslbench.report.collapse import evaluate_collapse_claim

    claim = {
        "collapse": {
            "kind": "less_than",
            "a": {"setting": "box", "path": "loss.trained.total"},
            "b": {"setting": "box", "path": "loss.inverse.total"},
        }
    }
    style = [0.8, 0.8, 0.7, 0.2]
    all_below = {"box": [_collapse_result(s, 1.0, 7.0, style) for s in range(3)]}
    assert evaluate_collapse_claim(claim, all_below)["verdict"] == REPLICATED
    mixed = {"box": [_collapse_result(0, 1.0, 7.0, style), _collapse_result(1, 8.0, 7.0, style)]}
    assert evaluate_collapse_claim(claim, mixed)["verdict"] == INCONCLUSIVE
    assert evaluate_collapse_claim(claim, {}) is None

    drop = {"collapse": {"kind": "last_layer_drop", "setting": "box", "path": "readout.style"}}
    assert evaluate_collapse_claim(drop, all_below)["verdict"] == REPLICATED
    gradual = {"box": [_collapse_result(0, 1.0, 7.0, [0.9, 0.6, 0.4, 0.3])]}
    assert evaluate_collapse_claim(drop, gradual)["verdict"] == CONTRADICTED


# Every paired claim of the registry on synthetic outcomes (issue 18): a clear effect in the
# claim's direction, the reverse, a chance-level difference of a model that did move, a model
# that did not move, and missing models.
N = 4000


def _paired_runs(claim, effect, move=True, n=N, swap=0.1):
    """pretrain-none (the start), the control and the treated model of one group; the treated
    model's correctness differs from the control's by ``effect`` (a share of n); with no
    effect, ``swap`` of the samples turn right and as many wrong (2 × swap changed)."""
    import numpy as np
    import pandas as pd

    from sslbench.report.tables import RunResult

    control = np.arange(n) % 2 == 0
    treated = control.copy()
    k = round(abs(effect) * n)
    if effect > 0:
        treated[np.flatnonzero(~control)[:k]] = True
    elif effect < 0:
        treated[np.flatnonzero(control)[:k]] = False
    elif move:
        treated[np.flatnonzero(~control)[: round(swap * n)]] = True
        treated[np.flatnonzero(control)[: round(swap * n)]] = False

    def run(variant, correct):
        prediction = np.where(correct, 0, 1 + np.arange(n) % 5)
        values = correct.astype(float)
        scores = pd.DataFrame(
            {
                "correct": correct,
                "knn_correct": correct,
                "confidence": values,
                "n_highly_activating": values,
                "prediction": prediction,
            }
        )
        return RunResult(variant, "d/simclr/seed0", variant, {}, {}, [], scores, {}, {}, "")

    variants = {"pretrain-none": control, claim["compare"]["control"]: control}
    variants[claim["compare"]["treated"]] = treated if move else control
    return [run(v, c) for v, c in variants.items()]


def _paired_verdict(registry, claim, effect, move=True, **sizes):
    from sslbench.report.tables import claims_table

    runs = _paired_runs(claim, effect, move, **sizes)
    table = claims_table([claim], runs, movement=registry["movement"])
    return table["verdict"].item(), table["evidence"].item()


SIGN = {"improves": 1, "degrades": -1, "does_not_improve": -1}


def _paired_claims(repo):
    registry = _registry(repo)
    # the class-wise claim (000 Fig. 6) has its own tests: tests/test_classwise_claim.py
    return registry, [c for c in registry["claims"] if "compare" in c and "classwise" not in c]


def test_paired_claims_clear_and_reversed_effects(repo):
    registry, claims = _paired_claims(repo)
    for claim in claims:
        rule = claim["rule"]
        if rule["kind"] == "equivalent":
            # ±0.3 points needs a large test set: 100,000 samples, 1.2 % of predictions changed
            cheap = {**claim, "rule": {**rule, "bootstrap_samples": 100}}
            same = _paired_verdict(registry, cheap, 0.0, n=100_000, swap=0.006)
            assert same[0] == REPLICATED, (claim["id"], same)
            assert _paired_verdict(registry, claim, 0.1)[0] == CONTRADICTED, claim["id"]
            continue
        clear = SIGN[rule["kind"]] * (rule["min_effect"] + 0.06)
        assert _paired_verdict(registry, claim, clear)[0] == REPLICATED, claim["id"]
        assert _paired_verdict(registry, claim, -clear)[0] == CONTRADICTED, claim["id"]


def test_paired_claims_at_chance_are_never_replicated(repo):
    registry, claims = _paired_claims(repo)
    for claim in claims:
        if claim["rule"]["kind"] in ("improves", "degrades"):
            verdict, _ = _paired_verdict(registry, claim, 0.0)
            assert verdict != REPLICATED, claim["id"]


def test_paired_claims_on_a_model_that_did_not_move_are_inconclusive(repo):
    registry, claims = _paired_claims(repo)
    for claim in claims:
        verdict, evidence = _paired_verdict(registry, claim, 0.0, move=False)
        assert verdict == INCONCLUSIVE and "did not move" in evidence, claim["id"]


def test_finetunes_move_from_their_start_not_from_the_control(repo):
    """A fine-tune is measured against pretrain-none, where it started: a control that moved
    while the treated fine-tune stayed at the start is still "did not move"."""
    from dataclasses import replace

    import numpy as np

    from sslbench.report.tables import claims_table

    registry = _registry(repo)
    claim = next(c for c in registry["claims"] if c["id"] == "qscore-finetune-improves")
    start, control, treated = _paired_runs(claim, 0.1)
    runs = [
        start,
        replace(control, scores=control.scores.assign(prediction=np.arange(N) % 7)),
        replace(treated, scores=start.scores),
    ]
    table = claims_table([claim], runs, movement=registry["movement"])
    assert "did not move" in table["evidence"].item()


def test_paired_claims_without_their_models_are_not_run(repo):
    from sslbench.report.tables import claims_table

    registry, claims = _paired_claims(repo)
    table = claims_table(claims, [], movement=registry["movement"])
    assert set(table["verdict"]) == {"not run"}
    reasons = dict(zip(table["claim"], table["evidence"], strict=True))
    temperature = next(c for c in claims if "no_l2_norm_temperature" in c["compare"]["treated"])
    assert "per-dimension" in reasons[temperature["statement"]]


def test_qscore_claims_are_decided_at_the_papers_and_the_selected_epsilon(repo):
    """One row at ε = 4 (chance: contradicted) and one at the validation pick (a predictor)."""
    from dataclasses import replace

    import pandas as pd

    from sslbench.report.tables import RunResult, claims_table, epsilon_grid_table

    claim = next(c for c in _registry(repo)["claims"] if c["id"] == "qscore-v2-auroc")
    grid = [
        {"epsilon": e, "lower_percentile": 50.0, "upper_percentile": 95.0, "n_discriminative": 9}
        | {"empty_share": s, "auroc": a, "auprc": 0.5}
        for e, s, a in ((4.0, 0.97, 0.517), (1.0, 0.0, 0.70))
    ]
    selected = _auroc_summary([0.66, 0.74]) | {
        "epsilon": 1.0,
        "lower_percentile": 50.0,
        "upper_percentile": 95.0,
        "validation": {"auroc": 0.71},
    }
    summary = _auroc_summary([0.502, 0.522]) | {"epsilon_grid": grid, "selected": selected}
    run = RunResult(
        "d/simclr/seed0",
        "d/simclr/seed0",
        "pretrain-none",
        summary,
        {},
        [],
        pd.DataFrame(),
        {},
        {},
        "",
    )
    table = claims_table([claim], [run])
    assert table["verdict"].tolist() == [CONTRADICTED, REPLICATED]
    assert "selected ε = 1" in table["run"].iloc[1]
    shown = epsilon_grid_table([run])
    assert shown["selected on validation"].tolist() == [False, True]
    skipped = replace(run, summary=summary | {"selected": {"skipped": "x"}})
    assert claims_table([claim], [skipped])["verdict"].tolist() == [CONTRADICTED]


@pytest.mark.parametrize("kind", ["improves", "degrades", "does_not_improve", "equivalent"])
def test_decision_boundaries_are_where_the_paired_verdict_changes(kind):
    """The projection's boundaries (decision_boundaries) and the paired rule (paired_verdict)
    are two statements of one rule: on a grid of intervals, a rule decides exactly the
    intervals that contain none of the boundaries."""
    from sslbench.report.verdicts import decision_boundaries, paired_verdict

    boundaries = decision_boundaries(kind, 0.01)
    grid = [i * 0.004 for i in range(-10, 11)]
    for low in grid:
        for high in (h for h in grid if h > low):
            straddles = any(low <= b <= high for b in boundaries)
            decided = paired_verdict(kind, (low, high), 0.01) != INCONCLUSIVE
            assert decided != straddles, (kind, low, high)


def test_a_model_at_chance_tests_no_claim_and_is_named(repo):
    """A treated model whose linear probe sits at chance is left out: the clear effect that
    would replicate becomes inconclusive, naming the model; above the floor it decides."""
    from dataclasses import replace

    from sslbench.report.tables import claims_table

    registry = _registry(repo)
    claim = next(c for c in registry["claims"] if c["id"] == "qscore-finetune-improves")
    clear = claim["rule"]["min_effect"] + 0.06
    classes = tuple(str(i) for i in range(10))

    def table(accuracy):
        runs = [
            replace(run, class_names=classes, evaluation={"linear_probe_accuracy": 0.5})
            for run in _paired_runs(claim, clear)
        ]
        runs[-1] = replace(runs[-1], evaluation={"linear_probe_accuracy": accuracy})
        return claims_table(
            [claim], runs, movement=registry["movement"], learning=registry["learning"]
        )

    at_chance = table(0.10)
    assert at_chance["verdict"].item() == INCONCLUSIVE
    assert "did not learn" in at_chance["evidence"].item()
    assert claim["compare"]["treated"] in at_chance["evidence"].item()
    assert table(0.10 + registry["learning"]["min_above_chance"] + 0.01)["verdict"].item() == (
        REPLICATED
    )
