"""The report notebooks share one header (sslbench.report.notebook.open_page): every notebook
opens its page through it, none loads the context or draws the top of the page itself."""

from __future__ import annotations

import json

import pytest

from sslbench.report.notebook import INDEX, page_spec
from sslbench.report.pages import PAGES
from sslbench.report.presentation import PAPERS


def _code(path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_every_notebook_opens_its_page_through_the_shared_header(repo):
    notebooks = sorted((repo / "workflow/notebooks").glob("*.ipynb"))
    assert {p.stem for p in notebooks} == {INDEX, *PAGES}
    for path in notebooks:
        code = _code(path)
        assert code.count("open_page(") == 1, path.name
        for own_header in ("load_context(", "STYLE", "machine_summary(", "TqdmWarning"):
            assert own_header not in code, (path.name, own_header)


def test_the_index_covers_every_paper_and_a_page_its_own():
    title, papers, stages = page_spec(INDEX)
    assert papers == tuple(PAPERS) and stages is None and title
    assert page_spec("collapse") == PAGES["collapse"]


def test_an_unknown_page_is_named():
    with pytest.raises(ValueError, match=r"page 'qscores': not a report page; use index"):
        page_spec("qscores")
