"""Compare the claim verdicts of two finished runs, read from their reports (issue 18).

Two uses: the verdicts one config gives on two seed sets (``config/replication_cpu.yaml`` with
seeds {0, 1, 2} and with {3, 4, 5}: the share of decided claims whose verdict agrees, the
stability docs/results/replication.md reports), and the verdicts that changed between two
versions of the code or rules (the list a closing note gives). Rows are matched by paper, claim
statement and run label with the seeds and the per-seed selected ε left out, so that the same
claim on the same dataset/method matches across seed sets.

    python scripts/compare_verdicts.py A B [--changed]

A and B are each a run directory holding ``reports/index.ipynb`` (the executed index notebook)
or a replication snapshot ``docs/snapshots/NAME.json`` (``scripts/readme_figures.py snapshot
--kind replication`` keeps every row's verdict in it, so a run can be compared after its outputs
are gone). Prints the agreement over rows decided (replicated or contradicted) in either, and
with ``--changed`` every row whose verdict differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from readme_figures import DECIDED, claim_rows, index_html

VERDICT = "verdict"
SEEDS = re.compile(r"seed\d+(?:\+seed\d+)*")
SELECTED = " at selected "


def notebook_html(run: Path) -> str:
    """Every HTML output of a run's executed index notebook, joined (the README generator's
    reader, :func:`readme_figures.index_html`)."""
    html = index_html(run)
    if html is None:
        raise SystemExit(f"{run}: no reports/index.ipynb (has the report been built?)")
    return html


def verdict_rows(source: Path) -> list[dict[str, str]]:
    """The claims-table rows of a run directory's report, or those a replication snapshot kept."""
    if source.suffix != ".json":
        return claim_rows(notebook_html(source))
    rows = json.loads(source.read_text()).get("verdicts")
    if rows is None:
        raise SystemExit(
            f"{source}: no 'verdicts' (a replication snapshot taken before it kept each row's"
            " verdict; compare the run directory, or take the snapshot again)"
        )
    return rows


def row_key(row: dict[str, str]) -> tuple[str, str, str]:
    """Paper, statement and run label without seed names or the per-seed selected ε."""
    run = row["run"]
    if SELECTED in run:
        run = run.split(SELECTED, 1)[0] + " at the selected ε"
    return row["paper"], row["claim"], SEEDS.sub("seeds", run)


def compare(a: list[dict[str, str]], b: list[dict[str, str]]) -> dict[str, object]:
    """Rows of both runs matched by :func:`row_key`: the pairs whose verdicts differ, and the
    agreement over the pairs decided in at least one run."""
    verdicts_a = {row_key(r): r[VERDICT] for r in a}
    verdicts_b = {row_key(r): r[VERDICT] for r in b}
    shared = sorted(set(verdicts_a) & set(verdicts_b))
    decided = [k for k in shared if verdicts_a[k] in DECIDED or verdicts_b[k] in DECIDED]
    agree = [k for k in decided if verdicts_a[k] == verdicts_b[k]]
    return {
        "shared": len(shared),
        "decided": len(decided),
        "agree": len(agree),
        "changed": [
            (k, verdicts_a[k], verdicts_b[k]) for k in shared if verdicts_a[k] != verdicts_b[k]
        ],
        "only_a": sorted(set(verdicts_a) - set(verdicts_b)),
        "only_b": sorted(set(verdicts_b) - set(verdicts_a)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_a", type=Path, help="run directory or replication snapshot (.json)")
    parser.add_argument("run_b", type=Path, help="run directory or replication snapshot (.json)")
    parser.add_argument("--changed", action="store_true", help="list every changed verdict")
    args = parser.parse_args(argv)
    result = compare(verdict_rows(args.run_a), verdict_rows(args.run_b))
    decided, agree = result["decided"], result["agree"]
    share = f"{100 * agree / decided:.1f} %" if decided else "—"
    print(
        f"{result['shared']} rows in both runs, {decided} decided in at least one:"
        f" {agree} agree ({share}); {len(result['only_a'])} rows only in A,"
        f" {len(result['only_b'])} only in B"
    )
    if args.changed:
        for (paper, claim, run), before, after in result["changed"]:
            print(f"{paper} | {claim} | {run} | {before} → {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
