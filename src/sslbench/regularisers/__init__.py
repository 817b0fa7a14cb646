"""Registry of regularisers: name → (spec dataclass, regulariser class)."""

from __future__ import annotations

from typing import Any

from sslbench.regularisers.base import Regulariser
from sslbench.regularisers.ifm import IFM, IFMSpec
from sslbench.regularisers.lasso import Lasso, LassoSpec
from sslbench.regularisers.no_l2_norm import NoL2Norm, NoL2NormSpec
from sslbench.regularisers.projector_head import IdentityHead, LinearHead, ProjectorHeadSpec
from sslbench.regularisers.qscore import QScoreRegulariser, QScoreSpec
from sslbench.regularisers.sparsehead import SparseHead, SparseHeadSpec
from sslbench.regularisers.temperature import PerDimensionTemperature, TemperatureSpec

REGULARISERS: dict[str, tuple[type | None, type[Regulariser]]] = {
    "none": (None, Regulariser),
    "lasso": (LassoSpec, Lasso),
    "qscore": (QScoreSpec, QScoreRegulariser),
    "sparsehead": (SparseHeadSpec, SparseHead),
    "ifm": (IFMSpec, IFM),
    "temperature": (TemperatureSpec, PerDimensionTemperature),
    "no_l2_norm": (NoL2NormSpec, NoL2Norm),
    "identity_head": (ProjectorHeadSpec, IdentityHead),
    "linear_head": (ProjectorHeadSpec, LinearHead),
}


def build_regulariser(name: str, params: dict[str, Any]) -> Regulariser:
    """Instantiate regulariser ``name`` with its config block ``params`` (what it needs from a
    pretrained encoder it takes in :meth:`~sslbench.regularisers.base.Regulariser.prepare`)."""
    if name not in REGULARISERS:
        raise ValueError(f"regulariser: unknown {name!r}; allowed {sorted(REGULARISERS)}")
    spec_cls, cls = REGULARISERS[name]
    if spec_cls is None:
        return cls()
    return cls(spec_cls(**params))
