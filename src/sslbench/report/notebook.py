"""The header every report notebook shares (issue 20): papermill's parameters in, the run's
context loaded once, and the top of the page — style, title, the way back to the claims index,
the machines and precision its numbers came from, and our setting."""

from __future__ import annotations

from dataclasses import replace

from IPython.display import HTML, Markdown, display

from sslbench.report.context import ReportContext, load_context
from sslbench.report.pages import PAGES
from sslbench.report.presentation import PAPERS, SMOKE_TEST_BANNER, STYLE, machine_html
from sslbench.report.provenance import machine_summary

#: The claims index page (workflow/notebooks/index.ipynb): every paper, every MLflow stage.
INDEX = "index"
INDEX_TITLE = "sslbench replication report"


def page_spec(page: str) -> tuple[str, tuple[str, ...], tuple[str, ...] | None]:
    """(title, papers, MLflow stages — None: all) of a report page."""
    if page == INDEX:
        return INDEX_TITLE, tuple(PAPERS), None
    if page not in PAGES:
        raise ValueError(f"page {page!r}: not a report page; use {INDEX} or one of {list(PAGES)}")
    return PAGES[page]


def open_page(
    page: str, setting: str, *inputs: str, smoke_test: str = "false"
) -> tuple[ReportContext, tuple[str, ...], tuple[str, ...] | None]:
    """Load the run's context from ``inputs`` (papermill's parameters, in
    :func:`sslbench.report.context.load_context`'s order) and display the page's header — with
    the smoke-test banner when ``smoke_test`` is "true" (the config's ``smoke_test``); returns
    the context, the papers whose claims the page shows and the MLflow stages its numbers come
    from (None: all)."""
    title, papers, stages = page_spec(page)
    ctx = replace(load_context(*inputs), smoke_test=smoke_test == "true")
    sources = ctx.mlflow if stages is None else ctx.mlflow[ctx.mlflow["stage"].isin(stages)]
    back = "" if page == INDEX else "[← all claims](index.html) · "
    display(HTML(STYLE))
    display(Markdown(f"# {title}\n{back}{len(ctx.runs)} trained model(s) in this run"))
    if ctx.smoke_test:
        display(HTML(SMOKE_TEST_BANNER))
    display(HTML(machine_html(machine_summary(sources))))
    display(Markdown(f"**Our setting** (compare with each claim's paper setting): {setting}"))
    return ctx, papers, stages
