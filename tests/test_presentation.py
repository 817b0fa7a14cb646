"""How the report presents its claims: "not run" rows name the config that runs them, every
claim has a unit and says whether it is decided with an interval, the overview counts each
paper's verdicts, controls never stand alone as results, readouts that did not converge are
flagged, and figures record panels without a legend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sslbench.analysis.readout import ReadoutSpec, cross_validated_readout  # noqa: E402
from sslbench.report import figures  # noqa: E402
from sslbench.report.claim_kinds import claim_unit, decided_by  # noqa: E402
from sslbench.report.presentation import (  # noqa: E402
    MISSING,
    claims_html,
    models_html,
    unstable_counts,
    verdict_counts,
    verdict_overview_html,
)
from sslbench.report.suppression import NOT_CONVERGED, non_convergence_note  # noqa: E402
from sslbench.report.tables import claims_table  # noqa: E402


def test_rows_of_absent_models_say_not_run_with_the_config(claims, repo):
    table = claims_table(claims, [], {}, pd.DataFrame(), config_dir=repo / "config")
    assert set(table["verdict"]) == {"not run"}
    assert table["ours"].isna().all()
    by_id = dict(zip([c["id"] for c in claims], table["evidence"], strict=True))
    assert "config/paper/003_sparsehead.yaml" in by_id["sparsehead-improves"]
    assert "config/paper/002_cifar10.yaml" in by_id["no-l2-norm-does-not-improve"]
    assert "config/projector_heads.yaml" in by_id["identity-head-collapses-representation"]
    assert "004 τ × IFM sweep" in by_id["ifm-improves-shape"]
    html = claims_html(table)
    assert "nan" not in html.lower() and MISSING in html


def test_every_claim_has_a_unit_and_says_how_it_is_decided(claims):
    for claim in claims:
        assert claim_unit(claim) and decided_by(claim), claim["id"]
    no_interval = {c["id"] for c in claims if "no interval" in decided_by(c)}
    assert "linear-collapse-with-content" in no_interval
    assert "discriminative-beats-random" in no_interval
    assert "qscore-v2-auroc" not in no_interval


def test_overview_counts_every_verdict_per_paper():
    claims = pd.DataFrame(
        {
            "paper": ["001", "001", "004"],
            "verdict": ["replicated", "not run", "contradicted"],
            "seeds agree": ["unstable", "", "stable"],
        }
    )
    counts = verdict_counts(claims)
    assert counts.loc["001", "replicated"] == 1 and counts.loc["001", "not run"] == 1
    assert counts.loc["004", "inconclusive"] == 0
    html = verdict_overview_html(claims)
    assert 'id="verdict-overview"' in html and 'data-paper="all"' in html
    assert html.count('class="overview-bar"') == 3  # two papers and the total
    assert unstable_counts(claims).to_dict() == {"001": 1, "004": 0}
    assert 'data-paper="all"><td>all papers</td>' in html


def _per_model(models: list[str]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("t/simclr/seed0", m) for m in models])
    return pd.DataFrame(
        {"Δ vs control": [np.nan] * len(models)}, index=index.set_names(["run", "model"])
    )


def test_controls_never_stand_alone_as_results(repo):
    html = models_html(
        _per_model(["pretrain-none"]), ["pretrain-none", "pretrain-ifm"], "t", repo / "config"
    )
    assert "<table" not in html and "not run" in html and "config/paper/004_ifm.yaml" in html
    shown = models_html(
        _per_model(["pretrain-none", "pretrain-ifm"]),
        ["pretrain-none", "pretrain-ifm"],
        "t",
        repo / "config",
    )
    assert "<table" in shown and "not run" not in shown


def test_non_converged_readouts_are_counted_and_flagged():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 64))
    labels = np.repeat(np.arange(4), 50)
    result = cross_validated_readout(features, labels, ReadoutSpec(max_iter=1), 0)
    assert result["not_converged_fits"] == result["folds"]
    table = pd.DataFrame({"shape": [0.3, 0.4], f"{NOT_CONVERGED}shape": [5, 0]})
    assert "⚠" in non_convergence_note(table, "shape")
    assert non_convergence_note(table.assign(**{f"{NOT_CONVERGED}shape": [0, 0]}), "shape") == ""


def test_figure_audit_counts_panels_with_several_series_and_no_legend():
    fig, (one, many, labelled) = plt.subplots(1, 3)
    one.plot([0, 1], [0, 1])
    figures.reference_line(one, [0, 1], [1, 0])
    many.plot([0, 1], [0, 1])
    many.plot([0, 1], [1, 0])
    labelled.plot([0, 1], [0, 1], label="a")
    labelled.plot([0, 1], [1, 0], label="b")
    labelled.legend()
    assert figures.series_without_legend(fig) == 1
    plt.close(fig)


def test_figure_audit_counts_unlabelled_colourbars():
    fig, ax = plt.subplots()
    colourbar = fig.colorbar(ax.imshow(np.ones((2, 2))), ax=ax)
    assert figures.series_without_legend(fig) == 1, "an unlabelled colourbar counts"
    colourbar.set_label("value")
    assert figures.series_without_legend(fig) == 0
    plt.close(fig)


def test_temperature_axis_labels_every_swept_tau():
    fig, ax = plt.subplots()
    ax.plot([0.05, 0.5], [1, 2])
    figures.temperature_axis(ax, [0.05, 0.5])
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.05", "0.5"]
    plt.close(fig)
