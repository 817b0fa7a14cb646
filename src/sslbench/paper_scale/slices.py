"""The slices of the paper-scale replication (``config/paper_scale/slices.yaml``) and the
planner that picks a window's slice: the first one in priority order without a published pack.

    python -m sslbench.paper_scale.slices next [--packs DIR]   # the next slice's id
    python -m sslbench.paper_scale.slices layers S1            # its config files, in order
    python -m sslbench.paper_scale.slices overrides S1         # its own last layer (YAML)
    python -m sslbench.paper_scale.slices limit                # the pack size limit, MiB
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sslbench.paper_scale.pack import read_manifest

REPO = Path(__file__).resolve().parents[3]
SLICES = REPO / "config/paper_scale/slices.yaml"
PUBLISHED = REPO / "docs/paper_scale/packs"
#: Every slice layers over the default config.
BASE_LAYER = "config/config.yaml"


@dataclass(frozen=True)
class Slice:
    """One window's share of the replication: its config ``layers`` (after config.yaml) and
    ``overrides``, a last layer of its own (what tells it from its siblings, e.g. the method)."""

    id: str
    title: str
    papers: tuple[str, ...]
    layers: tuple[str, ...]
    overrides: dict = field(default_factory=dict)

    @property
    def configfiles(self) -> tuple[str, ...]:
        """The config files of its run, in the order Snakemake layers them."""
        return (BASE_LAYER, *self.layers)


@dataclass(frozen=True)
class Plan:
    pack_limit_mib: float
    slices: tuple[Slice, ...]

    def get(self, slice_id: str) -> Slice:
        for item in self.slices:
            if item.id == slice_id:
                return item
        raise ValueError(
            f"{SLICES.name}: no slice {slice_id!r}; slices are "
            f"{', '.join(s.id for s in self.slices)}"
        )

    def next_slice(self, published: Iterable[str]) -> Slice | None:
        """The first slice in priority order whose id is not in ``published``."""
        done = set(published)
        return next((s for s in self.slices if s.id not in done), None)


def load_plan(path: Path = SLICES) -> Plan:
    """The slice list; a slice lacking a key or naming a missing layer is a clear error."""
    raw = yaml.safe_load(path.read_text())
    slices = []
    for entry in raw["slices"]:
        try:
            item = Slice(
                entry["id"],
                entry["title"],
                tuple(entry["papers"]),
                tuple(entry["layers"]),
                entry.get("overrides", {}),
            )
        except KeyError as err:
            raise ValueError(f"{path}: a slice lacks the key {err.args[0]!r}") from err
        missing = [layer for layer in item.layers if not (REPO / layer).is_file()]
        if missing:
            raise ValueError(f"{path}: slice {item.id} names missing config files {missing}")
        slices.append(item)
    return Plan(float(raw["pack_limit_mib"]), tuple(slices))


def published_slices(packs: Path = PUBLISHED) -> list[str]:
    """The slice id of every pack in ``packs``."""
    return [read_manifest(pack)["slice"] for pack in sorted(packs.glob("*.tar.gz"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sslbench.paper_scale.slices", description=__doc__
    )
    parser.add_argument("--plan", type=Path, default=SLICES, help="the slice list")
    sub = parser.add_subparsers(dest="command", required=True)
    nxt = sub.add_parser("next", help="the first slice without a published pack")
    nxt.add_argument("--packs", type=Path, default=PUBLISHED)
    layers = sub.add_parser("layers", help="a slice's config files, in order")
    layers.add_argument("slice")
    overrides = sub.add_parser("overrides", help="a slice's own last layer, as YAML")
    overrides.add_argument("slice")
    sub.add_parser("limit", help="the pack size limit in MiB")
    args = parser.parse_args(argv)
    plan = load_plan(args.plan)
    if args.command == "next":
        chosen = plan.next_slice(published_slices(args.packs))
        if chosen is None:
            print("every slice is published")
            return 1
        print(chosen.id)
    elif args.command == "layers":
        print(" ".join(plan.get(args.slice).configfiles))
    elif args.command == "overrides":
        print(yaml.safe_dump(plan.get(args.slice).overrides, sort_keys=False), end="")
    else:
        print(plan.pack_limit_mib)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
