"""Registry of SSL methods: name → (spec dataclass, method class)."""

from __future__ import annotations

from typing import Any

from sslbench.methods.base import SSLMethod
from sslbench.methods.simclr import SimCLR, SimCLRSpec
from sslbench.models.resnet import ResNet

METHODS: dict[str, tuple[type, type[SSLMethod]]] = {
    "simclr": (SimCLRSpec, SimCLR),
}


def build_method(name: str, backbone: ResNet, params: dict[str, Any]) -> SSLMethod:
    """Instantiate method ``name`` on ``backbone`` with its config block ``params``."""
    if name not in METHODS:
        raise ValueError(f"pretrain.methods: unknown method {name!r}; allowed {sorted(METHODS)}")
    spec_cls, method_cls = METHODS[name]
    return method_cls(backbone, spec_cls(**params))
