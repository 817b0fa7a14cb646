"""README.md is a user's guide: short, with the sections a new reader looks for, the five papers
with links, a licence and a citation file, and relative links that resolve; the measurement
chronicles live in docs/results/*.md and speak of the project, not of how it was made."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RESULTS = REPO / "docs" / "results"
MAX_LINES = 280
FIRST_SCREEN = 50  # lines
PAPERS = ("000", "001", "002", "003", "004")
#: A heading containing each of these (case-insensitive) must be in the README.
SECTIONS = (
    "two commands",
    "quick look",
    "verdicts",
    "configs",
    "layout",
    "extending",
    "troubleshooting",
    "citing",
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
EXTERNAL = ("http://", "https://", "mailto:")
#: How the process that made the project speaks, not its results.
PROCESS_TALK = re.compile(r"\bissue\s+\d+|\bissue-\d+|this session|\bmy (?:unit )?tests\b", re.I)


def readme() -> str:
    return README.read_text()


def headings(text: str) -> list[str]:
    return [line.lstrip("#").strip().lower() for line in text.splitlines() if line.startswith("#")]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(path.read_text())
        if not target.startswith(EXTERNAL) and not target.startswith("#")
    ]


def test_readme_is_short() -> None:
    assert len(readme().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("section", SECTIONS)
def test_readme_has_the_section(section: str) -> None:
    assert any(section in heading for heading in headings(readme())), section


def test_first_screen_says_what_the_commands_and_the_quick_look_are() -> None:
    """What the project does, the two commands with their time, and the quick look come first."""
    text = readme()
    order = [text.index(part) for part in ("## The two commands", "## Quick look", "## The five")]
    assert order == sorted(order)
    commands = text[order[0] : order[1]]
    assert "make run" in commands and "make test" in commands
    assert re.search(r"\d+(\.\d+)? min", commands), "make run's measured time"
    assert ".test/config/test.yaml" in text[order[1] : order[2]]
    lines = text.splitlines()
    quick = next(i for i, line in enumerate(lines) if ".test/config/test.yaml" in line)
    assert quick < FIRST_SCREEN, "the quick look's command is on the first screen"


def test_every_paper_is_named_with_a_link() -> None:
    rows = [line for line in readme().splitlines() if line.startswith("| 00")]
    for paper in PAPERS:
        row = next((line for line in rows if line.startswith(f"| {paper} |")), None)
        assert row is not None, paper
        assert re.search(r"\]\(https://[^)]+\)", row), paper


def test_license_is_mit() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 The sslbench authors" in text


def test_citation_file_parses_with_title_and_authors() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"] == "sslbench"
    assert cff["type"] == "software"
    assert cff["license"] == "MIT"
    assert cff["authors"] and all(author.get("name") for author in cff["authors"])
    assert str(cff["date-released"]) == "2026-12-04"


def test_papers_bib_has_the_five_papers() -> None:
    bib = (REPO / "docs" / "papers.bib").read_text()
    entries = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    assert len(entries) == len(PAPERS) == len(set(entries))
    readme_text = readme()
    assert "CITATION.cff" in readme_text and "docs/papers.bib" in readme_text


@pytest.mark.parametrize(
    "doc",
    [README, REPO / "docs" / "pipeline.md", *sorted(RESULTS.glob("*.md"))],
    ids=lambda path: path.relative_to(REPO).as_posix(),
)
def test_relative_links_resolve(doc: Path) -> None:
    for target in relative_links(doc):
        path, _, anchor = target.partition("#")
        linked = doc.parent / path
        assert linked.exists(), f"{doc.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in {slug(h) for h in headings(linked.read_text())}, (
                f"{doc.name}: {target}"
            )


def test_measurements_live_in_one_results_file_per_kind_of_run() -> None:
    """The README keeps only the summary region; every run's own tables are in docs/results."""
    names = {path.stem for path in RESULTS.glob("*.md")}
    assert {"default", "replication", "cifar10_cpu", "all_methods", "gpu"} <= names
    assert re.findall(r"<!-- figures:([\w-]+) -->", readme()) == ["glance"]


@pytest.mark.parametrize(
    "doc",
    [README, REPO / "docs" / "pipeline.md", *sorted(RESULTS.glob("*.md"))],
    ids=lambda path: path.relative_to(REPO).as_posix(),
)
def test_user_facing_text_speaks_of_the_project_not_of_its_making(doc: Path) -> None:
    found = PROCESS_TALK.findall(doc.read_text())
    assert not found, f"{doc.name}: {found}"


def test_every_config_has_its_line() -> None:
    text = readme()
    configs = sorted((REPO / "config").glob("*.yaml")) + sorted(
        (REPO / "config/paper").glob("*.yaml")
    )
    for config in configs:
        assert f"| `{config.relative_to(REPO).as_posix()}` |" in text, config.name
    assert "| `config/paper_scale/` |" in text
