"""Verdicts of the representation and feature-suppression claims on synthetic outcomes: a clear
effect → replicated, a reversed one → contradicted, noise → inconclusive, nothing → not run."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from sslbench.analysis.bootstrap import bootstrap_mean_difference
from sslbench.analysis.intervals import seed_interval
from sslbench.analysis.readout import ReadoutSpec, cross_validated_accuracy
from sslbench.report.representation import evaluate_representation_claim
from sslbench.report.suppression import evaluate_suppression_claim
from sslbench.report.tables import claims_table


@dataclass
class FakeRun:
    """The fields of RunResult the representation claims read."""

    group: str
    variant: str
    representation: dict = field(default_factory=dict)
    interpretability: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def _curves(disc, random):
    return {
        "compression": {
            "keep_percent": [100.0, 60.0, 20.0],
            "discriminative": disc,
            "random": random,
        }
    }


CURVE = {
    "kind": "curve_above",
    "a": "discriminative",
    "b": "random",
    "keep_min": 0.1,
    "keep_max": 0.8,
}


@pytest.mark.parametrize(
    ("disc", "random", "verdict"),
    [
        ([0.5, 0.5, 0.4], [0.5, 0.4, 0.3], "replicated"),
        ([0.5, 0.3, 0.2], [0.5, 0.4, 0.3], "contradicted"),
        ([0.5, 0.5, 0.2], [0.5, 0.4, 0.3], "inconclusive"),
    ],
)
def test_curve_claims_compare_only_the_points_inside_the_range(disc, random, verdict):
    runs = [FakeRun("d/m/seed0", "pretrain-none", _curves(disc, random))]
    [(label, result)] = evaluate_representation_claim({"representation": CURVE}, runs)
    assert label == "d/m" and result["verdict"] == verdict


def test_less_than_is_decided_per_seed_and_missing_variants_are_not_run():
    rule = {
        "kind": "less_than",
        "a": {"variant": "pretrain-identity_head", "path": "summary.rank"},
        "b": {"variant": "pretrain-none", "path": "summary.rank"},
    }
    runs = [
        FakeRun(f"d/m/seed{s}", v, summary={"rank": r})
        for s, (low, high) in enumerate([(2.0, 5.0), (3.0, 6.0)])
        for v, r in (("pretrain-identity_head", low), ("pretrain-none", high))
    ]
    [(_, result)] = evaluate_representation_claim({"representation": rule}, runs)
    assert result["verdict"] == "replicated" and result["ours"] == 2.5
    runs[2].summary["rank"] = 9.0
    [(_, mixed)] = evaluate_representation_claim({"representation": rule}, runs)
    assert mixed["verdict"] == "inconclusive"
    none_only = [r for r in runs if r.variant == "pretrain-none"]
    assert evaluate_representation_claim({"representation": rule}, none_only) == []


def test_less_than_with_intervals_needs_them_apart():
    rule = {
        "kind": "less_than",
        "a": {"variant": "finetune-none", "path": "summary.sparsity_percent"},
        "b": {"variant": "finetune-qscore", "path": "summary.sparsity_percent"},
    }

    def verdict(a_ci, b_ci):
        runs = [
            FakeRun(
                "d/m/seed0",
                variant,
                summary={"sparsity_percent": sum(ci) / 2, "sparsity_percent_ci": ci},
            )
            for variant, ci in (("finetune-none", a_ci), ("finetune-qscore", b_ci))
        ]
        [(_, result)] = evaluate_representation_claim({"representation": rule}, runs)
        return result["verdict"]

    assert verdict((0.10, 0.12), (0.11, 0.13)) == "inconclusive"
    assert verdict((0.10, 0.12), (0.20, 0.30)) == "replicated"
    assert verdict((0.20, 0.30), (0.10, 0.12)) == "contradicted"


RATIO = {
    "kind": "ratio_within",
    "a": {"variant": "pretrain-no_l2_norm_temperature", "path": "summary.rank"},
    "b": {"variant": "pretrain-no_l2_norm", "path": "summary.rank"},
    "tolerance": 0.10,
}


def _ratio_runs(treated_ranks, control_ranks):
    return [
        FakeRun(f"d/m/seed{s}", variant, summary={"rank": rank})
        for s, pair in enumerate(zip(treated_ranks, control_ranks, strict=True))
        for variant, rank in zip((RATIO["a"]["variant"], RATIO["b"]["variant"]), pair, strict=True)
    ]


@pytest.mark.parametrize(
    ("treated", "verdict"),
    [
        ([10.1, 9.9, 10.05], "replicated"),  # within ±1 % of the control in every seed
        ([14.0, 13.5, 14.2], "contradicted"),  # +35 % to +42 %: wholly outside ±10 %
        ([6.5, 7.0, 6.8], "contradicted"),  # a drop counts as a change too
        ([11.5, 8.5, 10.0], "inconclusive"),  # seeds on both sides of the tolerance
    ],
)
def test_ratio_within_decides_the_relative_change_over_seeds(treated, verdict):
    runs = _ratio_runs(treated, [10.0, 10.0, 10.0])
    [(label, result)] = evaluate_representation_claim({"representation": RATIO}, runs)
    change = np.array(treated) / 10.0 - 1.0
    mean, (low, high) = seed_interval(change)
    assert label == "d/m: pretrain-no_l2_norm_temperature vs pretrain-no_l2_norm"
    assert result["verdict"] == verdict
    assert result["ours"] == pytest.approx(mean)
    assert f"[{low:+.3f}, {high:+.3f}]" in result["detail"]
    assert ("seeds would decide it" in result.get("why", "")) == (verdict == "inconclusive")
    assert len(result["seeds"].split(";")) == 3


def test_ratio_within_pairs_seeds_and_needs_both_variants():
    runs = _ratio_runs([10.0, 10.0, 10.0], [10.0, 10.0, 10.0])
    control_seed2 = runs[-1]
    assert control_seed2.variant == RATIO["b"]["variant"] and control_seed2.group.endswith("2")
    [(_, result)] = evaluate_representation_claim({"representation": RATIO}, runs[:-1])
    assert len(result["seeds"].split(";")) == 2
    single = [r for r in runs if r.group.endswith("seed0")]
    [(_, one)] = evaluate_representation_claim({"representation": RATIO}, single)
    assert one["verdict"] == "replicated" and "seeds" not in one  # one seed: its point value
    controls = [r for r in runs if r.variant == RATIO["b"]["variant"]]
    assert evaluate_representation_claim({"representation": RATIO}, controls) == []


def test_sparsity_percent_interval_brackets_the_share_of_small_entries():
    from sslbench.analysis.qscore_summary import sparsity_percent

    rng = np.random.default_rng(0)
    h = rng.normal(size=(2000, 64)) * (rng.random((2000, 64)) > 0.3)
    cfg = {"sparsity_threshold": 0.01, "bootstrap_samples": 200, "confidence": 0.95}
    point, (low, high) = sparsity_percent(h, cfg, seed=0)
    assert point == pytest.approx((np.abs(h) < 0.01).mean() * 100)
    assert low < point < high and low > 29 and high < 32
    assert sparsity_percent(h, cfg, seed=0) == (point, (low, high))


def _interp(core, correct):
    core = np.asarray(core, dtype=float)
    return {"iou_core": core.tolist(), "iou_spurious": (1 - core).tolist(), "correct": correct}


def test_miou_claims_use_a_bootstrap_interval_of_the_difference():
    rng = np.random.default_rng(0)
    core = np.concatenate([rng.uniform(0.7, 0.9, 50), rng.uniform(0.2, 0.4, 50)])
    correct = [True] * 50 + [False] * 50
    runs = [FakeRun("d/m/seed0", "pretrain-none", interpretability=_interp(core, correct))]
    claims = {
        ("core_vs_spurious", "correct"): "replicated",
        ("core_vs_spurious", "misclassified"): "contradicted",
        ("correct_vs_misclassified", None): "replicated",
    }
    for (compare, group), verdict in claims.items():
        rule = {"kind": "miou", "compare": compare, "group": group}
        [(_, result)] = evaluate_representation_claim({"representation": rule}, runs)
        assert result["verdict"] == verdict, (compare, group)
    noise = rng.uniform(0.3, 0.7, 100)
    runs = [FakeRun("d/m/seed0", "pretrain-none", interpretability=_interp(noise, correct))]
    rule = {"kind": "miou", "compare": "correct_vs_misclassified"}
    [(_, result)] = evaluate_representation_claim({"representation": rule}, runs)
    assert result["verdict"] == "inconclusive"


def test_an_open_miou_row_over_seeds_says_how_many_seeds_would_decide_it():
    """Seeds whose correct-vs-misclassified gaps agree in sign but spread widely: the pooled
    samples' interval alone would replicate; the row is open and projects the seeds needed."""
    rng = np.random.default_rng(3)
    correct = [True] * 200 + [False] * 200
    runs = []
    for seed, gap in enumerate((0.02, 0.20, 0.05)):
        core = np.concatenate([rng.uniform(0.4, 0.6, 200) + gap, rng.uniform(0.4, 0.6, 200)])
        runs.append(
            FakeRun(f"d/m/seed{seed}", "pretrain-none", interpretability=_interp(core, correct))
        )
    rule = {"kind": "miou", "compare": "correct_vs_misclassified"}
    [(_, result)] = evaluate_representation_claim({"representation": rule}, runs)
    assert result["verdict"] == "inconclusive"
    assert "over 3 seeds" in result["why"] and "would decide it" in result["why"]
    [(_, one)] = evaluate_representation_claim({"representation": rule}, runs[1:2])
    assert one["verdict"] == "replicated" and "why" not in one


def test_bootstrap_mean_difference_brackets_the_true_difference():
    rng = np.random.default_rng(1)
    diff, (low, high) = bootstrap_mean_difference(
        rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 400), 500, 0.95, 0
    )
    assert low < 1.0 < high and low > 0.7 and diff == pytest.approx(1.0, abs=0.2)


def _sweep(effect, noise, seeds=3, seed=0, taus=(0.05, 0.5)):
    """Readouts where IFM adds ``effect`` to every factor, shape falls and colour rises with τ."""
    rng = np.random.default_rng(seed)
    rows = []
    for tau in taus:
        for reg in ("none", "ifm"):
            for s in range(seeds):
                bonus = effect if reg == "ifm" else 0.0
                rows.append(
                    {
                        "dataset": "trifeature",
                        "tau": tau,
                        "regulariser": reg,
                        "seed": s,
                        "infonce_loss": 5.0 + 4 * tau + rng.normal(0, 0.01),
                        "colour": 0.5 + tau + bonus + rng.normal(0, noise),
                        "shape": 0.6 - tau + bonus + rng.normal(0, noise),
                    }
                )
    return pd.DataFrame(rows)


IFM_SHAPE_CLAIM = {
    "suppression": {
        "kind": "ifm_improves",
        "factor": "shape",
        "treated": "ifm",
        "min_effect": 0.003,
    }
}


@pytest.mark.parametrize(("effect", "verdict"), [(0.1, "replicated"), (-0.1, "contradicted")])
def test_ifm_claim_follows_the_sign_of_a_clear_effect(effect, verdict):
    result = evaluate_suppression_claim(IFM_SHAPE_CLAIM, _sweep(effect, noise=0.005))
    assert result["verdict"] == verdict and result["ours"] == pytest.approx(effect, abs=0.01)


def test_ifm_claim_on_noise_is_inconclusive_and_says_why():
    result = evaluate_suppression_claim(IFM_SHAPE_CLAIM, _sweep(0.0, noise=0.2))
    assert result["verdict"] == "inconclusive"
    assert "temperature" in result["why"] and result["detail"].count("τ ") == 2


def test_ifm_that_helps_at_one_temperature_and_hurts_at_another_is_not_replicated():
    """004: "at every temperature". A large gain at τ = 0.05 and a clear loss at τ = 0.5
    average to a gain over (τ, seed) pairs; decided per τ, the loss contradicts the claim."""
    table = _sweep(0.0, noise=0.002)
    ifm_at = (table["regulariser"] == "ifm") & (table["tau"] == 0.05)
    table.loc[ifm_at, "shape"] += 0.1
    table.loc[(table["regulariser"] == "ifm") & (table["tau"] == 0.5), "shape"] -= 0.02
    result = evaluate_suppression_claim(IFM_SHAPE_CLAIM, table)
    assert result["verdict"] == "contradicted"
    assert result["ours"] == pytest.approx(-0.02, abs=0.005), "the worst temperature's gain"
    one_seed = evaluate_suppression_claim(IFM_SHAPE_CLAIM, _sweep(0.1, noise=0.002, seeds=1))
    assert one_seed["verdict"] == "inconclusive", "one seed per τ gives no interval"


def test_temperature_tradeoff_and_loss_correlation_verdicts():
    table = _sweep(0.0, noise=0.005)
    colour = {"kind": "temperature_tradeoff", "factor": "colour", "better": "high", "min_effect": 0}
    shape = {"kind": "temperature_tradeoff", "factor": "shape", "better": "low", "min_effect": 0}
    assert evaluate_suppression_claim({"suppression": colour}, table)["verdict"] == "replicated"
    assert evaluate_suppression_claim({"suppression": shape}, table)["verdict"] == "replicated"
    wrong = shape | {"better": "high"}
    assert evaluate_suppression_claim({"suppression": wrong}, table)["verdict"] == "contradicted"
    # two τ values (× 2 regularisers) only: r would restate the τ trade-off, so it is not decided
    negative = {"kind": "correlation", "factor": "shape", "sign": "negative", "min_settings": 10}
    result = evaluate_suppression_claim({"suppression": negative}, table)
    assert result["verdict"] == "inconclusive" and "4 hyper-parameter setting" in result["detail"]
    # over ten τ values: loss rises with τ, shape error rises with τ: positive r, against 004
    table = _sweep(0.0, noise=0.005, seeds=1, taus=np.linspace(0.05, 0.5, 10))
    result = evaluate_suppression_claim({"suppression": negative}, table)
    assert result["ours"] > 0.9 and result["verdict"] == "contradicted"
    # colour accuracy rises with τ, so colour error falls as the loss rises: negative r.
    colour_error = {
        "kind": "correlation",
        "factor": "colour",
        "sign": "negative",
        "min_settings": 10,
    }
    assert evaluate_suppression_claim({"suppression": colour_error}, table)["verdict"] == (
        "replicated"
    )


def test_missing_sweep_makes_suppression_claims_not_run():
    claim = {
        "paper": "004",
        "where": "Fig. 6",
        "statement": "IFM improves shape",
        "paper_value": "x",
        "suppression": {"kind": "ifm_improves", "factor": "shape", "treated": "ifm"},
    }
    table = claims_table([claim], [], None, None)
    assert table["verdict"].tolist() == ["not run"]


def test_seed_interval_needs_two_values():
    mean, (low, high) = seed_interval(np.array([0.3]))
    assert mean == 0.3 and np.isnan(low) and np.isnan(high)
    mean, (low, high) = seed_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and low < 1.0 and high > 3.0


def test_cross_validated_readout_separates_informative_from_noise_features():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    informative = np.eye(4)[labels] * 3 + rng.normal(size=(200, 4))
    noise = rng.normal(size=(200, 4))
    spec = ReadoutSpec(folds=5)
    assert cross_validated_accuracy(informative, labels, spec, 0)[0] > 0.9
    assert cross_validated_accuracy(noise, labels, spec, 0)[0] < 0.45


@pytest.mark.parametrize(
    ("gap", "verdict"), [(0.1, "replicated"), (-0.1, "contradicted"), (0.0, "inconclusive")]
)
def test_factor_above_compares_two_readouts_of_the_same_encoders(gap, verdict):
    table = _sweep(0.0, noise=0.01)
    table["texture"] = table["shape"] + gap + np.random.default_rng(3).normal(0, 0.01, len(table))
    rule = {"kind": "factor_above", "factor": "texture", "other": "shape", "min_effect": 0.0}
    assert evaluate_suppression_claim({"suppression": rule}, table)["verdict"] == verdict


def test_core_iou_is_compared_with_its_chance_level():
    """A heatmap spread uniformly scores the core's area: that is not "on the core"."""
    rng = np.random.default_rng(0)
    area = np.full(300, 0.25)
    correct = [True] * 300

    def runs(core):
        interp = _interp(core, correct) | {"core_area": area.tolist()}
        return [FakeRun("d/m/seed0", "pretrain-none", interpretability=interp)]

    rule = {"kind": "miou", "compare": "core_vs_chance", "group": "correct"}
    uniform = evaluate_representation_claim(
        {"representation": rule}, runs(area + rng.normal(0, 0.05, 300))
    )
    assert uniform[0][1]["verdict"] == "inconclusive"
    focused = evaluate_representation_claim({"representation": rule}, runs(area + 0.2))
    assert focused[0][1]["verdict"] == "replicated"
    # 40 % of the heatmap on a quarter of the image: above chance, though below "spurious"
    below_half = evaluate_representation_claim({"representation": rule}, runs(np.full(300, 0.4)))
    assert below_half[0][1]["verdict"] == "replicated"
