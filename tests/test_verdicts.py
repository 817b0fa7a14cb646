import pytest

from sslbench.report.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    REPLICATED,
    best_of,
    ci_above,
    evaluate_claim,
)


@pytest.mark.parametrize(
    ("interval", "verdict"),
    [((0.55, 0.7), REPLICATED), ((0.3, 0.45), CONTRADICTED), ((0.45, 0.6), INCONCLUSIVE)],
)
def test_ci_above(interval, verdict):
    assert ci_above(interval, 0.5) == verdict


def test_best_of():
    assert best_of(0.7, {"a": 0.6, "b": 0.7}, {"a": (0.5, 0.7), "b": (0.6, 0.8)}) == REPLICATED
    assert best_of(0.6, {"a": 0.8}, {"a": (0.7, 0.9)}) == CONTRADICTED
    assert best_of(0.6, {"a": 0.65}, {"a": (0.55, 0.75)}) == INCONCLUSIVE


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
        "rule": {"kind": "ci_above", "threshold": "share_correct"},
    }
    assert evaluate_claim(claim, _summary([0.6, 0.8], 0.5))["verdict"] == REPLICATED
    assert evaluate_claim(claim, _summary([0.6, 0.8], 0.9))["verdict"] == CONTRADICTED


def test_unknown_rule_is_an_error():
    claim = {"score": "q_score", "stat": "auroc", "rule": {"kind": "vibes"}}
    with pytest.raises(ValueError, match="rule kind"):
        evaluate_claim(claim, _summary([0.6, 0.8], 0.5))


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
    single = [c for c in registry["claims"] if "score" in c]
    assert single and len(single) < len(registry["claims"])
    for claim in single:
        result = evaluate_claim(claim, {"metrics": metrics, "share_correct": 0.5})
        assert result["verdict"] in {REPLICATED, CONTRADICTED, INCONCLUSIVE}


def test_paired_claims_use_the_same_samples():
    import numpy as np

    from sslbench.report.verdicts import evaluate_paired_claim

    control = np.array([True, False] * 200)
    better = control.copy()
    better[1::4] = True  # fixes half of the control's mistakes
    claim = {"rule": {"kind": "improves"}}
    assert evaluate_paired_claim(claim, better, control)["verdict"] == REPLICATED
    assert evaluate_paired_claim(claim, control, better)["verdict"] == CONTRADICTED
    assert evaluate_paired_claim(claim, control, control)["verdict"] == INCONCLUSIVE
    lasso = {"rule": {"kind": "does_not_improve"}}
    assert evaluate_paired_claim(lasso, better, control)["verdict"] == CONTRADICTED
    assert evaluate_paired_claim(lasso, control, better)["verdict"] == REPLICATED


SPARSEHEAD_CLAIM = {
    "paper": "003",
    "where": "Table 1",
    "statement": "s",
    "paper_value": "v",
    "compare": {"treated": "pretrain-sparsehead", "control": "pretrain-none"},
    "rule": {"kind": "improves"},
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
