"""Registry of SSL methods: name → (spec dataclass, method class).

The eight methods of the Q-Score paper's Table 1 (Kalibhat et al. AAAI 2024): SimCLR, MoCo v2,
BYOL, SwAV, DINO (ResNet), SimSiam, VICReg and Barlow Twins, each one module on the shared
:class:`~sslbench.methods.base.SSLMethod` interface and training loop.
"""

from __future__ import annotations

from typing import Any

from sslbench.methods.barlowtwins import BarlowTwins, BarlowTwinsSpec
from sslbench.methods.base import SSLMethod
from sslbench.methods.byol import BYOL, BYOLSpec
from sslbench.methods.dino import DINO, DINOSpec
from sslbench.methods.mocov2 import MoCoV2, MoCoV2Spec
from sslbench.methods.simclr import SimCLR, SimCLRSpec
from sslbench.methods.simsiam import SimSiam, SimSiamSpec
from sslbench.methods.swav import SwAV, SwAVSpec
from sslbench.methods.vicreg import VICReg, VICRegSpec
from sslbench.models.resnet import ResNet

METHODS: dict[str, tuple[type, type[SSLMethod]]] = {
    "simclr": (SimCLRSpec, SimCLR),
    "mocov2": (MoCoV2Spec, MoCoV2),
    "byol": (BYOLSpec, BYOL),
    "swav": (SwAVSpec, SwAV),
    "dino": (DINOSpec, DINO),
    "simsiam": (SimSiamSpec, SimSiam),
    "vicreg": (VICRegSpec, VICReg),
    "barlowtwins": (BarlowTwinsSpec, BarlowTwins),
}


def build_method(name: str, backbone: ResNet, params: dict[str, Any]) -> SSLMethod:
    """Instantiate method ``name`` on ``backbone`` with its config block ``params``."""
    if name not in METHODS:
        raise ValueError(f"pretrain.methods: unknown method {name!r}; allowed {sorted(METHODS)}")
    spec_cls, method_cls = METHODS[name]
    return method_cls(backbone, spec_cls(**params))
