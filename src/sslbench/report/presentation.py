"""How the report shows its claims: why an undecided row is undecided (units and what a
verdict rests on: :mod:`sslbench.report.claim_kinds`), which config runs a claim that did not
run, a verdict overview per paper and the claims grouped by paper. Presentation only: verdicts
come from :mod:`sslbench.report.verdicts` and the rule modules, unchanged.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sslbench.report.claim_kinds import NO_INTERVAL, decided_by, family_of
from sslbench.report.seeds import UNSTABLE

VERDICTS = ("replicated", "contradicted", "inconclusive", "not run")
VERDICT_COLOURS = {
    "replicated": "#2e7d32",
    "contradicted": "#c62828",
    "inconclusive": "#9e9e9e",
    "not run": "#e0e0e0",
}
PAPERS = {
    "000": "000 — Q-Score v1 (Kalibhat et al., workshop)",
    "001": "001 — Q-Score and discriminative features (Kalibhat et al., AAAI 2024)",
    "002": "002 — Content suppresses style: dimensional collapse (Rusak et al.)",
    "003": "003 — SparseHead (Song et al.)",
    "004": "004 — Feature suppression and IFM (Robinson et al.)",
}
MAX_CONFIGS_NAMED = 2
MISSING = "—"
OURS_DIGITS = 3
#: Columns of the claims table as shown, in order (``paper`` becomes the section heading).
SHOWN_COLUMNS = (
    "where",
    "claim",
    "paper's value",
    "run",
    "ours",
    "unit",
    "decided by",
    "evidence",
    "per seed",
    "seeds agree",
    "verdict",
    "why inconclusive",
)
#: Left-aligned text, right-aligned numbers, a coloured verdict; shared by every page
#: (``!important``: nbconvert's JupyterLab theme right-aligns every cell with a more specific
#: selector).
STYLE = """<style>
table.sslbench { border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }
table.sslbench th, table.sslbench td { text-align: left !important; vertical-align: top;
  padding: 0.25em 0.5em; border-bottom: 1px solid #ddd; }
table.sslbench td.num { text-align: right !important; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
table.sslbench-data th { text-align: left !important; }
.verdict { padding: 0.1em 0.4em; border-radius: 0.3em; white-space: nowrap; }
.overview-bar { display: flex; width: 24em; height: 1em; border: 1px solid #bbb; }
.overview-bar span { display: block; height: 100%; }
.flag { color: #b26a00; font-weight: bold; }
.smoke-test { border: 2px solid #b26a00; background: #fff4e0; padding: 0.5em 1em; }
</style>"""
#: The top of every page of a smoke-test config's report (config key ``smoke_test``).
SMOKE_TEST_BANNER = (
    '<div class="smoke-test" id="smoke-test"><b>Smoke test.</b> This config runs the whole '
    "pipeline at a scale that decides nothing (tiny models, a few epochs, a few hundred "
    "images): its rows show that every claim is computed, not whether any holds, and its "
    "verdicts are not counted. Run config/config.yaml or a paper config for verdicts.</div>"
)


# --- why a row is undecided -------------------------------------------------------------


def why_inconclusive(claim: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """Why an inconclusive row is undecided (issue 18: "claims that stay inconclusive say why"):
    the rule's own reason where it gives one (model did not move, not computable, seeds
    disagree), else what its kind of evidence leaves open; "" for a decided row."""
    if result["verdict"] != "inconclusive":
        return ""
    if "why" in result:
        return result["why"]
    if NO_INTERVAL in result.get("decided by", decided_by(claim)):
        return "the values fall on both sides of the threshold (across seeds or points)"
    return (
        "its 95 % interval contains the claim's minimal effect: the effect is smaller than the"
        " interval (more seeds or test samples needed)"
    )


# --- which config runs a claim ------------------------------------------------------------


def _claim_variants(claim: Mapping[str, Any]) -> set[str]:
    if family_of(claim) == "compare":
        return {claim["compare"]["treated"], claim["compare"]["control"]}
    rule = claim.get("representation")
    if rule is None:
        return {claim.get("variant", "pretrain-none")}
    if rule["kind"] in ("less_than", "ratio_within"):
        return {rule["a"]["variant"], rule["b"]["variant"]}
    found = {rule.get("variant", "pretrain-none")}
    return found | {rule[key] for key in ("treated", "control") if key in rule}


def _runs_variant(cfg: Mapping[str, Any], variant: str) -> bool:
    protocol, _, regulariser = variant.partition("-")
    if regulariser == "none":
        return protocol == "pretrain" or any((cfg.get("finetune") or {}).get("runs", {}).values())
    block = "scratch" if protocol == "pretrain" else "finetune"
    return bool(((cfg.get(block) or {}).get("runs") or {}).get(regulariser))


def _collapse_settings(rule: Mapping[str, Any]) -> list[str]:
    """The 002 settings a collapse rule reads: its ``a`` and ``b``, or its one ``setting``."""
    return [rule[k]["setting"] for k in ("a", "b") if k in rule] or [rule["setting"]]


def _runs_claim(cfg: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    family = family_of(claim)
    if family == "collapse":
        wanted = set(_collapse_settings(claim["collapse"]))
        return wanted <= set((cfg.get("collapse") or {}).get("settings") or {})
    if family == "suppression":
        return bool((cfg.get("suppression") or {}).get("temperatures"))
    variants = _claim_variants(claim) - {"pretrain-none"}
    return bool(variants) and all(_runs_variant(cfg, v) for v in variants)


def _config_files(config_dir: Path) -> list[Path]:
    """Layerable configs, most specific first: the papers', then the others (the tiny test
    config lives in .test/, not here: it runs claims only at a scale that decides nothing)."""
    own = [p for p in sorted(config_dir.glob("*.yaml")) if p.name != "config.yaml"]
    return sorted(config_dir.glob("paper/*.yaml")) + own


def configs_running(claim: Mapping[str, Any], config_dir: Path) -> list[str]:
    """The config files (layered over config/config.yaml) that produce what ``claim`` needs."""
    return [
        str(Path(config_dir.name) / path.relative_to(config_dir))
        for path in _config_files(config_dir)
        if _runs_claim(yaml.safe_load(path.read_text()) or {}, claim)
    ]


def _needed(claim: Mapping[str, Any]) -> set[str]:
    """What a claim needs, named as in ``produced`` of :func:`not_run_detail`."""
    family = family_of(claim)
    if family == "collapse":
        return {f"collapse:{setting}" for setting in _collapse_settings(claim["collapse"])}
    if family == "suppression":
        return {"suppression"}
    return _claim_variants(claim)


def _needs(claim: Mapping[str, Any]) -> str:
    family = family_of(claim)
    if family == "collapse":
        settings = _collapse_settings(claim["collapse"])
        return f"002 controlled setting(s) {', '.join(dict.fromkeys(settings))}"
    if family == "suppression":
        return "004 τ × IFM sweep"
    models = sorted(_claim_variants(claim) - {"pretrain-none"}) or ["pretrain-none"]
    return f"{' / '.join(models)} model"


def not_run_detail(
    claim: Mapping[str, Any], config_dir: Path | None, produced: Collection[str] = ()
) -> str:
    """Why a claim has no row, and which config runs it. A claim's own ``pending`` or
    ``not_run_reason`` (claims.yaml) is the reason where it gives one. ``produced``: the model
    variants, ``collapse:<setting>`` and ``suppression`` experiments this config did produce;
    when all the claim needs is among them, its rule found no data point in what they
    produced."""
    stated = claim.get("pending") or claim.get("not_run_reason")
    if "pending" in claim:
        return f"not run: {stated}"
    if _needed(claim) <= set(produced):
        return (
            "not run: the models it needs were trained, but its rule found no data point in "
            "them (e.g. no compression level in its keep range); see workflow/report/claims.yaml"
        )
    configs = configs_running(claim, config_dir) if config_dir is not None else []
    reason = f"not run: {stated or f'this config has no {_needs(claim)}'}"
    if not configs:
        return reason
    shown = " or ".join(configs[:MAX_CONFIGS_NAMED])
    return f"{reason}; layer {shown} over config/config.yaml to run it"


#: The claims table's legend, shown above it on every page (:func:`claims_legend`).
CLAIMS_LEGEND = (
    "one row per claim and setting (dataset/method), the paper's number and setting, ours with "
    "its unit, the evidence, and the verdict computed from our data. Where a setting was trained "
    "with several seeds, the verdict is pooled over them — where every seed has per-sample data, "
    "a 95 % interval spanning both the two-level bootstrap (seeds, then test samples) and "
    "the Student-t interval of the seeds' values (three seeds count as three draws of training, "
    "not as their range), else every seed's own verdict must agree — and **per seed** lists "
    "each seed's own verdict; **seeds agree** reads ⚠ "
    "*unstable* when they differ: such a verdict would have come out differently on another seed. "
    "An inconclusive row says **why** (the model did not move, the seeds disagree, or the "
    "interval contains the claim's minimal effect — then, where several seeds or pairs give the "
    "interval, how many a Student-t interval would need at the mean and spread seen: a "
    "projection, not a promise). Verdicts: *replicated* — the claim's rule "
    "finds the paper's statement in our data; *contradicted* — it finds the opposite; "
    "*inconclusive* — neither; *not run* — this config produced nothing to test it (the row names "
    "the config that does; such rows have no number). The **decided by** column says how each "
    "verdict was reached: claims with a **95 % interval** (bootstrap, paired bootstrap, Student-t "
    "over seed pairs, Fisher's interval of r) need the whole interval on one side; claims decided "
    "**without an interval** (002's controlled experiments, 001's compression curves, effective "
    "ranks, 000's best-of-simple-metrics) need the point values to hold in every seed — they say "
    '"no interval" or "point values". The **unit** column gives the unit of *ours*; Δ values are '
    "treated − control, as fractions (0.010 = 1 point). Rules: `workflow/report/claims.yaml`. A "
    "CPU-scale result is not a paper-scale one: compare the settings. ⚠ in the evidence marks "
    "numbers whose readouts did not converge."
)


def claims_legend(scope: str) -> str:
    """The Markdown heading and legend of a claims table; ``scope`` says whose claims it lists
    (e.g. "Every claim of the five papers")."""
    return f"## Claims\n{scope}, grouped by paper: {CLAIMS_LEGEND}"


# --- HTML ---------------------------------------------------------------------------------


def format_ours(value: Any) -> str:
    """A number with three decimals; "—" for a missing one (never NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:.{OURS_DIGITS}f}" if isinstance(value, float) else str(value)


def verdict_badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#ffffff")
    text = "#000" if verdict in ("not run", "inconclusive") else "#fff"
    return (
        f'<span class="verdict" style="background:{colour};color:{text}">'
        f"{html.escape(verdict)}</span>"
    )


def _cell(column: str, value: Any) -> str:
    if column == "ours":
        return f'<td class="num">{format_ours(value)}</td>'
    if column == "verdict":
        return f"<td>{verdict_badge(str(value))}</td>"
    if column == "seeds agree" and value == UNSTABLE:
        return f'<td><b class="unstable">⚠ {UNSTABLE}</b></td>'
    return f"<td>{html.escape(MISSING if value is None else str(value))}</td>"


def table_html(rows: pd.DataFrame, columns: Iterable[str], table_id: str) -> str:
    """``rows`` as an HTML table: text left-aligned, numbers right-aligned, no NaN."""
    columns = [c for c in columns if c in rows.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(c, row[c]) for c in columns) + "</tr>" for _, row in rows.iterrows()
    )
    return (
        f'<table class="sslbench" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def claims_html(claims: pd.DataFrame, table_id: str = "claims") -> str:
    """The claims grouped by paper: a heading per paper and its rows."""
    parts = []
    for paper, rows in claims.groupby("paper", sort=True):
        parts.append(f"<h3>{html.escape(PAPERS.get(str(paper), str(paper)))}</h3>")
        parts.append(table_html(rows, SHOWN_COLUMNS, f"{table_id}-{paper}"))
    return f'<div id="{table_id}">' + "".join(parts) + "</div>"


def verdict_counts(claims: pd.DataFrame) -> pd.DataFrame:
    """Rows per paper × verdict (every verdict a column, zeros included)."""
    counts = claims.groupby(["paper", "verdict"]).size().unstack(fill_value=0)
    return counts.reindex(columns=list(VERDICTS), fill_value=0).sort_index()


def _bar(counts: pd.Series) -> str:
    total = max(int(counts.sum()), 1)
    return (
        '<div class="overview-bar">'
        + "".join(
            f'<span title="{v}: {n}" style="width:{100 * n / total:.1f}%;'
            f'background:{VERDICT_COLOURS[v]}"></span>'
            for v, n in counts.items()
            if n
        )
        + "</div>"
    )


def unstable_counts(claims: pd.DataFrame) -> pd.Series:
    """Rows per paper whose seeds' verdicts disagree (:mod:`sslbench.report.seeds`); NaN for
    a paper none of whose rows has several seeds (nothing could disagree)."""
    agree = claims["seeds agree"] if "seeds agree" in claims else pd.Series("", claims.index)
    by_paper = agree.groupby(claims["paper"])
    return (
        (agree == UNSTABLE)
        .groupby(claims["paper"])
        .sum()
        .where(by_paper.agg(lambda a: (a != "").any()))
    )


def verdict_overview_html(claims: pd.DataFrame) -> str:
    """Per paper: the count of each verdict, a stacked bar of them and how many rows' seeds
    disagree (unstable); the total last."""
    counts = verdict_counts(claims)
    unstable = unstable_counts(claims).reindex(counts.index)
    head = "".join(f"<th>{verdict_badge(v)}</th>" for v in VERDICTS)
    rows = []
    for paper, row in [*counts.iterrows(), ("all", counts.sum())]:
        name = html.escape(PAPERS.get(str(paper), "all papers"))
        cells = "".join(f'<td class="num">{int(row[v])}</td>' for v in VERDICTS)
        n_unstable = unstable.sum(min_count=1) if paper == "all" else unstable[paper]
        shown = "" if pd.isna(n_unstable) else int(n_unstable)
        rows.append(
            f'<tr data-paper="{paper}"><td>{name}</td>{cells}<td>{_bar(row)}</td>'
            f'<td class="num unstable-count">{shown}</td></tr>'
        )
    return (
        f'<table class="sslbench" id="verdict-overview"><thead><tr><th>paper</th>{head}'
        f"<th>share</th><th>seeds disagree ({UNSTABLE})</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def machine_html(summary: list[tuple[str, int]]) -> str:
    """The machines, precisions, code and configs the page's numbers came from."""
    if not summary:
        return '<p id="machine">Machine and precision: no MLflow runs found.</p>'
    items = "".join(f"<li>{html.escape(line)} — {n} run(s)</li>" for line, n in summary)
    return f'<div id="machine"><b>Numbers computed on</b><ul>{items}</ul></div>'


def models_html(
    table: pd.DataFrame, wanted: Sequence[str], table_id: str, config_dir: Path | None
) -> str:
    """The rows of the ``wanted`` models of a per-model table (indexed by run and model).

    A wanted model that was not trained gets a "not run" sentence naming the config that trains
    it; when none of the treated models was trained, the controls are not shown alone (their
    Δ would read as a result)."""
    trained = set(table.index.get_level_values("model")) if not table.empty else set()
    treated = [m for m in wanted if not m.endswith("-none")]
    notes = [
        f"<p><b>{html.escape(m)}</b>: "
        + html.escape(not_run_detail({"compare": {"treated": m, "control": m}}, config_dir))
        + ".</p>"
        for m in treated
        if m not in trained
    ]
    if not any(m in trained for m in treated):
        return f'<div id="{table_id}">' + "".join(notes) + "</div>"
    shown = table[table.index.get_level_values("model").isin(wanted)].round(OURS_DIGITS + 1)
    rows = shown.to_html(table_id=table_id, classes="sslbench-data", na_rep=MISSING)
    return "".join(notes) + rows
