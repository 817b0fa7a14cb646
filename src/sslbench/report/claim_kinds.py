"""The claim kinds of ``workflow/report/claims.yaml`` in one registry (issue 20).

A claim is decided by one *family* — the block of its entry that says how: ``pending`` (not
measurable yet), ``collapse`` (002's controlled experiments), ``suppression`` (004's sweep),
``representation`` (per-model analyses), ``compare`` (treated vs control models, its kind in
``rule``) or ``rule`` alone (a single model's Q-Score). Each family allows a fixed set of rule
kinds; each kind says what its "ours" number is measured in and what its verdict rests on.
The claims file is checked against this registry when it is loaded, the report's tables
dispatch on :func:`family_of`, and the verdicts are computed in the family's module
(:data:`FAMILY_MODULES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Claim = Mapping[str, Any]

NO_INTERVAL = "no interval: point values"
PENDING = "not measured yet"

#: The module computing each family's verdicts, in the order a claim's family is looked up.
FAMILY_MODULES = {
    "pending": "none: always 'not run', with its reason",
    "collapse": "sslbench.report.collapse",
    "suppression": "sslbench.report.suppression",
    "representation": "sslbench.report.representation",
    "compare": "sslbench.report.verdicts (classwise: sslbench.report.classwise)",
    "rule": "sslbench.report.verdicts",
}
#: Families whose kind is named in the claim's ``rule`` block instead of their own.
KIND_IN_RULE = ("compare", "rule")

_PATH_UNITS = (
    ("effective_rank", "effective rank"),
    ("sparsity_percent", "% of h at zero"),
    ("auroc", "AUROC"),
    ("readout", "R² of the readout"),
    ("loss", "alignment + uniformity loss"),
)


@dataclass(frozen=True)
class ClaimKind:
    """One way of deciding a claim: the unit of its "ours" number (from the claim) and what its
    verdict rests on (the report's "decided by" column)."""

    unit: Callable[[Claim], str]
    decided_by: str


def path_unit(path: str) -> str:
    """The unit of the value at a dotted ``path`` of an analysis' JSON."""
    return next((unit for key, unit in _PATH_UNITS if key in path), path.rsplit(".", 1)[-1])


def _a_path_unit(family: str) -> Callable[[Claim], str]:
    return lambda claim: path_unit(claim[family]["a"]["path"])


def _fixed(unit: str) -> Callable[[Claim], str]:
    return lambda claim: unit


def _factor_accuracy(claim: Claim) -> str:
    return f"Δ {claim['suppression']['factor']} readout accuracy (fraction)"


def _ratio_unit(claim: Claim) -> str:
    rule = claim["representation"]
    return f"relative change of the {path_unit(rule['a']['path'])} (a / b − 1)"


def _curve_unit(claim: Claim) -> str:
    rule = claim["representation"]
    return f"Δ probe accuracy ({rule['a']} − {rule['b']}, fraction)"


#: What a paired claim's per-sample ``outcome`` column (scores.csv) measures.
_OUTCOME_UNITS = {
    "correct": "linear-probe accuracy (fraction",
    "knn_correct": "k-NN accuracy (fraction",
    "confidence": "linear-probe confidence, max softmax (mean",
    "n_highly_activating": "highly activating features per sample, |L_i| (mean",
}


def _paired_unit(claim: Claim) -> str:
    if "classwise" in claim:
        return "lowest − other groups' mean per-class Δ accuracy (fraction)"
    measured = _OUTCOME_UNITS[claim["compare"].get("outcome", "correct")]
    return f"Δ {measured}, treated − control)"


def _stat_unit(claim: Claim) -> str:
    return claim["stat"].upper()


_EVERY_SEED = f"{NO_INTERVAL}, every seed"
_T_PAIRS = "95 % t-interval over seed pairs"
_PAIRED = ClaimKind(_paired_unit, "95 % paired bootstrap interval")
_CURVE = ClaimKind(_curve_unit, f"{NO_INTERVAL}, every seed and point")

#: family → rule kind → how it is shown and decided (the rules: claims.yaml's header).
KINDS: dict[str, dict[str, ClaimKind]] = {
    "pending": {},
    "collapse": {
        "less_than": ClaimKind(_a_path_unit("collapse"), _EVERY_SEED),
        "last_layer_drop": ClaimKind(_fixed("drop in R² at the last layer"), _EVERY_SEED),
    },
    "suppression": {
        "correlation": ClaimKind(
            lambda c: f"Pearson r (held-out loss vs {c['suppression']['factor']} error)",
            "95 % interval of r (Fisher)",
        ),
        "factor_above": ClaimKind(_factor_accuracy, _T_PAIRS),
        "temperature_tradeoff": ClaimKind(_factor_accuracy, _T_PAIRS),
        "ifm_improves": ClaimKind(_factor_accuracy, _T_PAIRS),
    },
    "representation": {
        "curve_above": _CURVE,
        "curve_matches": _CURVE,
        "less_than": ClaimKind(
            _a_path_unit("representation"),
            "95 % intervals where stored (AUROC, sparsity), else point values; every seed",
        ),
        "miou": ClaimKind(
            _fixed("Δ mIoU"), "95 % bootstrap interval (samples) and Student-t (seeds), hull"
        ),
        "median_above": ClaimKind(
            _fixed("median share of its most activated class's samples (fraction)"), _EVERY_SEED
        ),
        "ratio_within": ClaimKind(_ratio_unit, _T_PAIRS),
    },
    "compare": {
        "improves": _PAIRED,
        "degrades": _PAIRED,
        "does_not_improve": _PAIRED,
        "equivalent": _PAIRED,
    },
    "rule": {
        "ci_above": ClaimKind(_stat_unit, "95 % bootstrap interval"),
        "non_inferior": ClaimKind(_stat_unit, "95 % bootstrap interval"),
    },
}


def family_of(claim: Claim) -> str:
    """The family deciding ``claim``: the first of :data:`FAMILY_MODULES` it has a block for."""
    found = next((family for family in FAMILY_MODULES if family in claim), None)
    if found is None:
        raise ValueError(
            f"claims: claim {claim.get('id', '?')!r} has none of the blocks "
            f"{', '.join(FAMILY_MODULES)}"
        )
    return found


def unknown_kind(family: str, kind: str) -> str:
    """The error message for a ``family`` rule of an unregistered ``kind``."""
    return f"claims: unknown kind {kind!r} of a {family} rule; allowed {', '.join(KINDS[family])}"


def kind_of(claim: Claim) -> ClaimKind | None:
    """The registered kind deciding ``claim`` (None for a pending claim)."""
    family = family_of(claim)
    if family == "pending":
        return None
    name = claim["rule" if family in KIND_IN_RULE else family]["kind"]
    if name not in KINDS[family]:
        raise ValueError(f"{unknown_kind(family, name)} (claim {claim.get('id', '?')!r})")
    return KINDS[family][name]


def check_claims(claims: Sequence[Claim]) -> None:
    """Every claim has an id and a single deciding block of a registered kind (else a
    ValueError naming the claim and the allowed kinds)."""
    exclusive = [family for family in FAMILY_MODULES if family not in KIND_IN_RULE]
    for claim in claims:
        if "id" not in claim:
            raise ValueError(f"claims: a claim has no 'id': {dict(claim)}")
        blocks = [family for family in exclusive if family in claim]
        if len(blocks) > 1:
            raise ValueError(
                f"claims: claim {claim['id']!r} has several deciding blocks {blocks}; keep one"
            )
        kind_of(claim)


def claim_unit(claim: Claim) -> str:
    """The unit of the number in a claim's "ours" column."""
    kind = kind_of(claim)
    return PENDING if kind is None else kind.unit(claim)


def decided_by(claim: Claim) -> str:
    """Whether a claim's verdict rests on a 95 % interval or on point values (per seed)."""
    kind = kind_of(claim)
    return PENDING if kind is None else kind.decided_by
