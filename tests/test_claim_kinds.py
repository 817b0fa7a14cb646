"""The claim-kind registry (sslbench.report.claim_kinds): the claims file uses exactly its
kinds, a bad claim is refused when the file is loaded, and the family modules computing the
verdicts handle every registered kind and refuse others with the registry's message."""

from __future__ import annotations

import pytest
import yaml

from sslbench.report.claim_kinds import (
    FAMILY_MODULES,
    KIND_IN_RULE,
    KINDS,
    check_claims,
    family_of,
)
from sslbench.report.collapse import evaluate_collapse_claim
from sslbench.report.representation import evaluate_representation_claim
from sslbench.report.tables import load_claims
from sslbench.report.verdicts import paired_verdict


def _kind_name(claim: dict) -> str | None:
    family = family_of(claim)
    if family == "pending":
        return None
    return claim["rule" if family in KIND_IN_RULE else family]["kind"]


def test_the_claims_file_uses_every_registered_kind_and_no_other(claims):
    used = {(family_of(c), _kind_name(c)) for c in claims if family_of(c) != "pending"}
    registered = {(family, kind) for family, kinds in KINDS.items() for kind in kinds}
    assert used == registered
    assert set(KINDS) == set(FAMILY_MODULES)


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        (
            {"id": "x", "collapse": {"kind": "vibes"}},
            r"unknown kind 'vibes' of a collapse rule; "
            r"allowed less_than, last_layer_drop \(claim 'x'\)",
        ),
        (
            {"id": "x", "compare": {}, "rule": {"kind": "ci_above"}},
            r"of a compare rule; allowed "
            r"improves",
        ),
        ({"id": "x", "statement": "s"}, r"claim 'x' has none of the blocks pending, collapse"),
        (
            {"id": "x", "collapse": {"kind": "less_than"}, "suppression": {"kind": "correlation"}},
            r"claim 'x' has several deciding blocks \['collapse', 'suppression'\]",
        ),
        ({"rule": {"kind": "ci_above"}}, r"a claim has no 'id'"),
    ],
)
def test_a_bad_claim_is_refused_naming_it(claim, message):
    with pytest.raises(ValueError, match=message):
        check_claims([claim])


def test_loading_a_claims_file_checks_it(tmp_path, repo):
    registry = yaml.safe_load((repo / "workflow/report/claims.yaml").read_text())
    registry["claims"][0]["rule"]["kind"] = "above_chance"
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(registry))
    with pytest.raises(ValueError, match="unknown kind 'above_chance'"):
        load_claims(path)


@pytest.mark.parametrize("kind", KINDS["compare"])
def test_every_paired_kind_decides_a_clear_interval(kind):
    # an interval far from every minimal effect is decided whichever the kind
    assert paired_verdict(kind, (0.5, 0.6), 0.01) in ("replicated", "contradicted")


def test_family_modules_refuse_an_unregistered_kind_with_the_registry_message():
    with pytest.raises(ValueError, match="allowed less_than, last_layer_drop"):
        evaluate_collapse_claim({"collapse": {"kind": "vibes"}}, {})
    with pytest.raises(ValueError, match="allowed curve_above, curve_matches, less_than, miou"):
        evaluate_representation_claim({"representation": {"kind": "vibes"}}, [])
    with pytest.raises(ValueError, match="allowed improves, degrades"):
        paired_verdict("vibes", (0.0, 1.0), 0.1)


@pytest.mark.parametrize("kind", KINDS["representation"])
def test_every_representation_kind_is_handled_without_models(kind):
    rule = {"kind": kind, "a": {"variant": "pretrain-none", "path": "p"}, "b": {"variant": "v"}}
    assert evaluate_representation_claim({"representation": rule}, []) == []
